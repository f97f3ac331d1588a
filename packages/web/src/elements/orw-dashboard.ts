import { TaskStatus } from "@lit/task"
import { UNATTRIBUTED } from "@orw/domain/Plain"
import type { Dashboard, KeyRow, UsageExplorer } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { addUsd, daysFrom, exactUsd, seriesBy, totalPer } from "../chart-data.js"
import { IntervalController } from "../controllers/interval-controller.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { type DashboardFilters, dashboardSearch, parseDashboard, RANGES, replaceSearch } from "../dashboard-filters.js"
import { NEAR_LIMIT, remainingShare, usd } from "../format.js"
import { rpc } from "../rpc-client.js"
import { filterControls, shared } from "../styles.js"
import { addDays, utcToday } from "../usage-filters.js"
import "./orw-budget-watch.js"
import "./orw-chart.js"
import "./orw-key-health.js"
import "./orw-spend-table.js"
import "./orw-totals.js"

/** The dashboard refreshes this often, so running usage shows up without a reload. */
export const REFRESH_MS = 30_000

/** Usage seen only as growth of a key's total (e.g. today, before OpenRouter reports it per model). */
export const modelName = (model: string) => (model === UNATTRIBUTED ? "Not split by model yet" : model)

const load = async (filters: DashboardFilters, signal: AbortSignal) => {
  const end = utcToday()
  const start = addDays(end, -(filters.days - 1))
  const keyIds = filters.keyId === "" ? [] : [filters.keyId]
  const [dashboard, usage, keys] = await Promise.all([
    rpc.dashboard({ start_date: start, end_date: end, ...(keyIds.length === 0 ? {} : { key_id: keyIds[0] }) }, signal),
    // The same effective usage per day and model (or key) as /api/v1/usage, for the stacked charts.
    rpc.usage(
      { start_date: start, end_date: end, key_ids: keyIds, models: [], granularity: "day", split: filters.split },
      signal
    ),
    rpc.listKeys(undefined, signal)
  ])
  return { dashboard, usage, keys }
}

/** The charts of a range: spend and requests per day stacked by model or key, tokens in and out per day. */
const charts = (dashboard: Dashboard, usage: UsageExplorer) => {
  const x = daysFrom(dashboard.start_date, dashboard.end_date)
  const rows = usage.rows.map((r) => ({ ...r, label: usage.split === "model" ? modelName(r.label) : r.label }))
  const tokens = {
    x,
    series: [
      { label: "Input", values: totalPer(rows, x, (r) => r.tokens_input) },
      { label: "Output", values: totalPer(rows, x, (r) => r.tokens_output) }
    ]
  }
  return {
    spend: seriesBy(rows, x, (r) => r.cost, { add: addUsd }),
    requests: seriesBy(rows, x, (r) => r.requests),
    tokens
  }
}

/** Spend per day, key and model over a range, totals, balance and key health; refreshed every 30 s. */
@customElement("orw-dashboard")
export class OrwDashboard extends LitElement {
  static override styles = [
    shared,
    filterControls,
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
        margin: 1rem 0 0.25rem;
        font-weight: 600;
      }
      .halves {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr));
        gap: 1rem;
      }
      select {
        /* As wide as its longest option (a key's name) otherwise, which can be wider than a phone. */
        max-width: min(100%, 16rem);
      }
    `
  ]

  /** Range, key and the charts' split: read from the URL, written back to it on every change. */
  @state() accessor _filters: DashboardFilters = parseDashboard(window.location.search)
  @state() accessor _tick = 0

  constructor() {
    super()
    new IntervalController(this, REFRESH_MS, () => this._tick++)
  }

  private readonly _data = new ServerTask(this, {
    args: () => [this._filters, this._tick] as const,
    task: ([filters], signal) => load(filters, signal)
  })

  private _set(change: Partial<DashboardFilters>): void {
    this._filters = { ...this._filters, ...change }
    replaceSearch(dashboardSearch(this._filters))
  }

  private readonly _onKey = (event: Event): void => this._set({ keyId: (event.target as HTMLSelectElement).value })

  private _body(data: Dashboard, usage: UsageExplorer, keys: ReadonlyArray<KeyRow>) {
    const near = new Set(keys.filter((k) => (remainingShare(k) ?? 1) < NEAR_LIMIT).map((k) => k.id))
    const byKey = data.by_key.map((k) => ({
      label: k.name,
      value: k.cost,
      highlight: near.has(k.key_id),
      requests: k.requests
    }))
    const byModel = data.by_model.map((m) => ({ label: modelName(m.model), value: m.cost, requests: m.requests }))
    const byDay = data.by_day.map((d) => ({ label: d.date, value: d.cost, requests: d.requests }))
    const estimated = data.by_day.filter((d) => d.estimated).map((d) => d.date)
    const drawn = charts(data, usage)
    const split = this._filters.split
    return html`
      <orw-totals .summary=${data.summary}></orw-totals>
      <orw-budget-watch .keys=${keys}></orw-budget-watch>
      <section class="card" aria-labelledby="health">
        <h2 id="health">Key health</h2>
        <orw-key-health .keys=${keys}></orw-key-health>
      </section>
      <section class="card" aria-labelledby="per-day">
        <div class="head">
          <h2 id="per-day">Spend per day</h2>
          <div class="row" role="group" aria-label="Stack the charts by">
            <button type="button" aria-pressed=${split === "model"} @click=${() => this._set({ split: "model" })}>
              By model
            </button>
            <button type="button" aria-pressed=${split === "key"} @click=${() => this._set({ split: "key" })}>
              By key
            </button>
          </div>
        </div>
        <h3>Cost, stacked by ${split}</h3>
        <orw-chart
          kind="bars"
          stacked
          label="Cost per day and ${split}"
          .data=${drawn.spend}
          .format=${usd}
          .exact=${exactUsd}
        ></orw-chart>
        <h3>Requests, stacked by ${split}</h3>
        <orw-chart kind="bars" stacked label="Requests per day and ${split}" .data=${drawn.requests}></orw-chart>
        <h3>Tokens</h3>
        <orw-chart kind="lines" label="Tokens in and out per day" .data=${drawn.tokens}></orw-chart>
        <p class="hint" id="estimated-days">
          Recorded spend, the same figures as the keys page, the usage explorer and the API.
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
          <orw-spend-table caption="Spend per key" heading="Key" .rows=${byKey}></orw-spend-table>
        </section>
        <section class="card" aria-labelledby="per-model">
          <h2 id="per-model">Spend per model</h2>
          <orw-spend-table caption="Spend per model" heading="Model" .rows=${byModel}></orw-spend-table>
        </section>
      </div>
      <p><a href="/usage">Open the usage explorer</a> for any range, per week or month, with CSV export.</p>
    `
  }

  private _range(days: (typeof RANGES)[number]) {
    const pressed = this._filters.days === days
    return html`<button type="button" aria-pressed=${pressed ? "true" : "false"} @click=${() => this._set({ days })}>
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
              (k) => html`<option value=${k.id} ?selected=${k.id === this._filters.keyId}>${k.name}</option>`
            )}
          </select>
        </div>
      </div>
      <p class="muted">
        ${value === undefined ? "Loading…" : `${value.dashboard.start_date} to ${value.dashboard.end_date}`}
        · refreshes every ${REFRESH_MS / 1000} s${refreshing ? " · refreshing…" : ""}
      </p>
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._data.error)}</p>` : nothing}
      ${value === undefined ? nothing : this._body(value.dashboard, value.usage, value.keys)}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-dashboard": OrwDashboard
  }
}
