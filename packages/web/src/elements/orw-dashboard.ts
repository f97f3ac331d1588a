import { TaskStatus } from "@lit/task"
import { UsageEvents } from "@orw/domain"
import { ApiKeyId, UtcDate } from "@orw/domain/Ids"
import type { Dashboard, KeyRow } from "@orw/domain/Rpc"
import { Effect } from "effect"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import { EffectTask, errorMessage } from "../controllers/effect-task.js"
import { IntervalController } from "../controllers/interval-controller.js"
import { count, NEAR_LIMIT, remainingShare } from "../format.js"
import { rpc } from "../runtime.js"
import { shared } from "../styles.js"
import "./orw-budget-watch.js"
import "./orw-chart.js"
import "./orw-key-health.js"
import "./orw-spend-table.js"
import "./orw-totals.js"

/** The dashboard refreshes this often, so running usage shows up without a reload. */
export const REFRESH_MS = 30_000
const RANGES = [7, 30, 90] as const
const DAY_MS = 86_400_000

/** Usage seen only as growth of a key's total (e.g. today, before OpenRouter reports it per model). */
const modelName = (model: string) => (model === UsageEvents.UNATTRIBUTED ? "Not split by model yet" : model)

const startOf = (days: number) => UtcDate.make(new Date(Date.now() - (days - 1) * DAY_MS).toISOString().slice(0, 10))

const load = (days: number, keyId: string) =>
  rpc((client) =>
    Effect.all(
      {
        dashboard: client.dashboard({
          start_date: startOf(days),
          ...(keyId === "" ? {} : { key_id: ApiKeyId.make(keyId) })
        }),
        keys: client.listKeys()
      },
      { concurrency: "unbounded" }
    )
  )

/** Spend per day, key and model over a range, totals, balance and key health; refreshed every 30 s. */
@customElement("orw-dashboard")
export class OrwDashboard extends LitElement {
  static override styles = [
    shared,
    css`
      .head {
        display: flex;
        justify-content: space-between;
        align-items: baseline;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
      h3 {
        font-size: 0.85rem;
        color: var(--muted);
        margin: 0.5rem 0 0.25rem;
        font-weight: 600;
      }
      .halves {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr));
        gap: 1rem;
      }
      button[aria-pressed="true"] {
        background: var(--accent);
        border-color: var(--accent);
        color: #fff;
      }
      select {
        font: inherit;
        padding: 0.4rem;
        border-radius: 6px;
        background: var(--card);
        color: var(--fg);
      }
    `
  ]

  /** Days shown, ending today (UTC). */
  @property({ type: Number }) accessor days = 30
  /** Only this key's spend; all keys when empty. */
  @property({ attribute: "key-id" }) accessor keyId = ""

  @state() accessor _tick = 0

  constructor() {
    super()
    new IntervalController(this, REFRESH_MS, () => this._tick++)
  }

  private readonly _data = new EffectTask(this, {
    args: () => [this.days, this.keyId, this._tick] as const,
    effect: ([days, keyId]) => load(days, keyId)
  })

  private readonly _onKey = (event: Event): void => {
    this.keyId = (event.target as HTMLSelectElement).value
  }

  private _body(data: Dashboard, keys: ReadonlyArray<KeyRow>) {
    const near = new Set(keys.filter((k) => (remainingShare(k) ?? 1) < NEAR_LIMIT).map((k) => k.id))
    const byKey = data.by_key.map((k) => ({
      label: k.name,
      value: k.cost,
      highlight: near.has(k.key_id),
      requests: k.requests
    }))
    const byModel = data.by_model.map((m) => ({ label: modelName(m.model), value: m.cost, requests: m.requests }))
    const byDay = data.by_day.map((d) => ({ label: d.date, value: d.cost, requests: d.requests }))
    const requests = byDay.map((d) => ({ ...d, value: d.requests }))
    const estimated = data.by_day.filter((d) => d.estimated).map((d) => d.date)
    return html`
      <orw-totals .summary=${data.summary}></orw-totals>
      <orw-budget-watch .keys=${keys}></orw-budget-watch>
      <section class="card" aria-labelledby="health">
        <h2 id="health">Key health</h2>
        <orw-key-health .keys=${keys}></orw-key-health>
      </section>
      <section class="card" aria-labelledby="per-day">
        <h2 id="per-day">Spend per day</h2>
        <h3>Cost</h3>
        <orw-chart variant="columns" label="Spend per day" .data=${byDay}></orw-chart>
        <h3>Requests</h3>
        <orw-chart variant="line" label="Requests per day" .data=${requests} .format=${count}></orw-chart>
        <p class="hint" id="estimated-days">
          Recorded spend, the same figures as the keys page and the API.
          ${
            estimated.length === 0
              ? "Every day shown is final (OpenRouter's per-model figures)."
              : `Estimated (still running, or not yet broken down per model by OpenRouter): ${estimated.join(", ")}.
                 Every other day is final.`
          }
        </p>
        <details>
          <summary>Figures per day</summary>
          <orw-spend-table caption="Spend per day" heading="Date" .rows=${byDay}></orw-spend-table>
        </details>
      </section>
      <div class="halves">
        <section class="card" aria-labelledby="per-key">
          <h2 id="per-key">Spend per key</h2>
          <orw-chart variant="bars" label="Spend per key" .data=${byKey}></orw-chart>
          <orw-spend-table caption="Spend per key" heading="Key" .rows=${byKey}></orw-spend-table>
        </section>
        <section class="card" aria-labelledby="per-model">
          <h2 id="per-model">Spend per model</h2>
          <orw-chart variant="bars" label="Spend per model" .data=${byModel}></orw-chart>
          <orw-spend-table caption="Spend per model" heading="Model" .rows=${byModel}></orw-spend-table>
        </section>
      </div>
    `
  }

  private _range(days: number) {
    const pressed = this.days === days
    return html`<button type="button" aria-pressed=${pressed ? "true" : "false"} @click=${() => (this.days = days)}>
      ${days} days
    </button>`
  }

  override render() {
    const value = this._data.value
    const refreshing = this._data.status === TaskStatus.PENDING && value !== undefined
    const failed = this._data.status === TaskStatus.ERROR
    return html`
      <div class="head">
        <h1>Dashboard</h1>
        <div class="row">
          <div class="row" role="group" aria-label="Date range">${RANGES.map((days) => this._range(days))}</div>
          <label class="sr-only" for="key">Key</label>
          <select id="key" @change=${this._onKey}>
            <option value="">All keys</option>
            ${(value?.keys ?? []).map(
              (k) => html`<option value=${k.id} ?selected=${k.id === this.keyId}>${k.name}</option>`
            )}
          </select>
        </div>
      </div>
      <p class="muted">
        ${value === undefined ? "Loading…" : `${value.dashboard.start_date} to ${value.dashboard.end_date}`}
        · refreshes every ${REFRESH_MS / 1000} s${refreshing ? " · refreshing…" : ""}
      </p>
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._data.error)}</p>` : nothing}
      ${value === undefined ? nothing : this._body(value.dashboard, value.keys)}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-dashboard": OrwDashboard
  }
}
