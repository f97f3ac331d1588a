import { TaskStatus } from "@lit/task"
import type { KeyRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { EffectTask, errorMessage } from "../controllers/effect-task.js"
import { dateTime, NEAR_LIMIT, remainingShare, usdOrUnknown } from "../format.js"
import { rpc } from "../runtime.js"
import { shared } from "../styles.js"
import "./orw-budgets.js"
import "./orw-key-actions.js"
import "./orw-key-add.js"
import "./orw-status-badge.js"

const money = (value: number | null) => usdOrUnknown(value, "–")

/** The limit always with its reset period: "$1.00 of $5.00 · daily", "no limit". */
const limitText = (key: KeyRow): string =>
  key.limit === null
    ? "no limit"
    : `${money(key.limit_remaining)} of ${money(key.limit)} · ${key.limit_reset ?? "never resets"}`

/**
 * The last difference the daily reconciliation found with OpenRouter, as a short notice: which day and model (or
 * the all-time total), both figures. A day's figures were recorded again from OpenRouter since.
 */
const discrepancyNotice = (key: KeyRow) => {
  const d = key.last_discrepancy
  if (d === null) return nothing
  const what = d.scope === "all-time" ? "all-time total" : `${d.date} ${d.model}`
  const healed = d.scope === "day" ? " (re-recorded from OpenRouter)" : ""
  // To the micro-dollar: the difference may be smaller than the cents money shows elsewhere.
  const exact = (n: number) => `$${n.toFixed(6)}`
  return html`<div class="hint discrepancy" role="note">
    Reconciliation ${dateTime(d.found_at)}: ${what} was ${exact(d.recorded)} here, ${exact(d.upstream)} at
    OpenRouter${healed}
  </div>`
}

/** The user's OpenRouter keys: health, limit and what is left, usage windows, last sync, and the actions. */
@customElement("orw-keys")
export class OrwKeys extends LitElement {
  static override styles = [
    shared,
    css`
      .label {
        font-family: ui-monospace, monospace;
        font-size: 0.8rem;
      }
      tr.near td.limit {
        color: var(--warn);
        font-weight: 600;
      }
      td.upstream {
        color: var(--muted, #666);
        font-size: 0.8rem;
      }
      .scroll {
        overflow-x: auto;
      }
      .discrepancy {
        color: var(--warn);
      }
    `
  ]

  /** What the last action did, announced politely. */
  @state() accessor _done = ""

  private readonly _keys = new EffectTask(this, { args: () => [] as const, effect: () => rpc((c) => c.listKeys()) })

  private readonly _onAdded = (): void => void this._keys.run()

  private readonly _onChanged = (event: CustomEvent<string>): void => {
    this._done = event.detail
    void this._keys.run()
  }

  private _row(key: KeyRow) {
    const near = (remainingShare(key) ?? 1) < NEAR_LIMIT
    const management = key.is_management_key === true ? html` <span class="hint">(management)</span>` : nothing
    return html`<tr class=${near ? "near" : ""}>
      <td>
        <strong>${key.name}</strong>${management}
        <div class="label">${key.label}</div>
      </td>
      <td>
        <orw-status-badge status=${key.status}></orw-status-badge>
        ${key.last_error === null ? nothing : html`<div class="hint">${key.last_error}</div>`}
        ${discrepancyNotice(key)}
      </td>
      <td class="num limit">${limitText(key)}</td>
      <td class="num">
        ${money(key.spend_today)} <span class="hint" title="Today is still running: an estimate until OpenRouter reports the day per model">est.</span>
        <div class="hint">${key.requests_today} requests</div>
      </td>
      <td class="num">${money(key.spend_total)}</td>
      <td class="num upstream">
        ${
          key.usage_total === null
            ? "–"
            : html`today ${money(key.usage_daily)}<br />month ${money(key.usage_monthly)}<br />all time ${money(
                key.usage_total
              )}`
        }
      </td>
      <td>${dateTime(key.last_synced_at)}</td>
      <td><orw-key-actions .key=${key} @orw-key-changed=${this._onChanged}></orw-key-actions></td>
    </tr>`
  }

  private _table(keys: ReadonlyArray<KeyRow>) {
    return html`<table>
      <caption class="sr-only">Your OpenRouter keys</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Health</th>
          <th scope="col" class="num">Remaining of limit</th>
          <th scope="col" class="num" title="Recorded spend of the current UTC day, as on the dashboard">
            Today (recorded)
          </th>
          <th scope="col" class="num" title="Recorded spend of all time, as on the dashboard and the API">
            All time (recorded)
          </th>
          <th scope="col" class="num" title="OpenRouter's own counters from GET /key at the last sync, for reference">
            OpenRouter's counters
          </th>
          <th scope="col">Last synced (UTC)</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>${keys.map((key) => this._row(key))}</tbody>
    </table>`
  }

  override render() {
    const keys = this._keys.value
    const failed = this._keys.status === TaskStatus.ERROR
    return html`
      <h1>Keys</h1>
      <section class="card"><orw-key-add @orw-key-added=${this._onAdded}></orw-key-add></section>
      <p class=${this._done === "" ? "" : "notice"} role="status">${this._done}</p>
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._keys.error)}</p>` : nothing}
      <section class="card scroll" aria-labelledby="keys-title">
        <h2 id="keys-title">Your keys</h2>
        ${
          keys === undefined || keys.length === 0
            ? html`<p class="muted">${keys === undefined ? "Loading…" : "No keys yet."}</p>`
            : this._table(keys)
        }
      </section>
      ${keys === undefined ? nothing : html`<orw-budgets .keys=${keys}></orw-budgets>`}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-keys": OrwKeys
  }
}
