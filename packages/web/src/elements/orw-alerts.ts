import { TaskStatus } from "@lit/task"
import type { AlertKind, AlertList, AlertRow, KeyRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { dateTime, day } from "../format.js"
import { money } from "../money.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"

/** Alerts per page. */
export const ALERTS_PER_PAGE = 20

const KIND: Record<AlertKind, string> = { threshold: "Threshold", spike: "Spike", forecast: "Forecast" }

/** The alerts that fired, newest first, a page at a time. */
@customElement("orw-alerts")
export class OrwAlerts extends LitElement {
  static override styles = [
    shared,
    css`
      .scroll {
        overflow-x: auto;
      }
      .pager {
        justify-content: space-between;
        margin-top: 0.75rem;
      }
      @media (max-width: 720px) {
        .pager span {
          order: -1;
          flex-basis: 100%;
          text-align: center;
        }
      }
    `
  ]

  /** The page shown, from 1. */
  @state() accessor _page = 1

  private readonly _alerts = new ServerTask(this, {
    args: () => [this._page] as const,
    task: async ([page], signal) => {
      const [alerts, keys] = await Promise.all([
        rpc.listAlerts({ page, limit: ALERTS_PER_PAGE }, signal),
        rpc.listKeys(undefined, signal)
      ])
      return { alerts, keys }
    }
  })

  private _row(alert: AlertRow, keys: ReadonlyArray<KeyRow>) {
    const key = alert.key_id === null ? "Account" : (keys.find((k) => k.id === alert.key_id)?.name ?? "Deleted key")
    return html`<tr>
      <td data-label="Fired (UTC)" class="nowrap">${dateTime(alert.fired_at)}</td>
      <td data-label="Kind">${KIND[alert.kind]}</td>
      <td data-label="Budget of">${key}</td>
      <td data-label="Threshold" class="num">${alert.threshold === null ? "–" : `${alert.threshold} %`}</td>
      <td data-label="Spent of amount" class="num">${money(alert.spent)} of ${money(alert.amount)}</td>
      <td data-label="Period">${alert.period} from ${day(alert.period_start)}</td>
    </tr>`
  }

  private _table({ items }: AlertList, keys: ReadonlyArray<KeyRow>) {
    return html`<div class="scroll"><table class="cards">
      <caption class="sr-only">Alerts, newest first</caption>
      <thead><tr><th scope="col">Fired (UTC)</th><th scope="col">Kind</th><th scope="col">Budget of</th>
        <th scope="col" class="num">Threshold</th><th scope="col" class="num">Spent of amount</th>
        <th scope="col">Period</th></tr></thead>
      <tbody>${items.map((alert) => this._row(alert, keys))}</tbody>
    </table></div>`
  }

  private _pager({ pagination }: AlertList, busy: boolean) {
    const pages = Math.max(1, pagination.pages)
    return html`<nav class="row pager" aria-label="Alert pages">
      <button type="button" ?disabled=${busy || this._page <= 1} @click=${() => this._page--}>Newer</button>
      <span role="status">Page ${pagination.page} of ${pages} · ${pagination.total} alerts</span>
      <button type="button" ?disabled=${busy || this._page >= pages} @click=${() => this._page++}>Older</button>
    </nav>`
  }

  override render() {
    const value = this._alerts.value
    const failed = this._alerts.status === TaskStatus.ERROR
    const busy = this._alerts.status === TaskStatus.PENDING
    return html`
      <h1>Alerts</h1>
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._alerts.error)}</p>` : nothing}
      <section class="card" aria-labelledby="alerts-title">
        <h2 id="alerts-title">Fired alerts</h2>
        <p class="hint">A threshold of a budget reached, a day's spend spiking, or a period forecast to go over.</p>
        ${
          value === undefined
            ? html`<p class="muted">${failed ? "" : "Loading…"}</p>`
            : value.alerts.items.length === 0 && value.alerts.pagination.page === 1
              ? html`<p class="muted">No alerts yet.</p>`
              : html`${this._table(value.alerts, value.keys)}${this._pager(value.alerts, busy)}`
        }
      </section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-alerts": OrwAlerts
  }
}
