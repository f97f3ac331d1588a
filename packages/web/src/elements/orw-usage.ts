import { TaskStatus } from "@lit/task"
import type { UsageExplorer } from "@orw/domain/Rpc"
import { periodStart } from "@orw/domain/Usage/Explorer"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { addUsd, daysFrom, exactUsd, seriesBy } from "../chart-data.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { replaceSearch } from "../dashboard-filters.js"
import { usd } from "../format.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import { csvHref, explorerQuery, filtersToSearch, parseFilters, type UsageFilters, utcToday } from "../usage-filters.js"
import "./orw-chart.js"
import { FILTERS_CHANGE_EVENT } from "./orw-usage-filters.js"
import "./orw-usage-table.js"

/** The periods a chart of the rows runs over: every day, week or month of the range, idle ones included. */
const periodsOf = (data: UsageExplorer) => [
  ...new Set(daysFrom(data.start_date, data.end_date).map((d) => periodStart(d, data.granularity)))
]

/**
 * `/usage`, the usage explorer: any range, several keys and models, rows per day, week or month and per
 * model or key, sortable, paged, with exact totals and a CSV export of exactly these rows (the server's
 * `/api/usage` with the same filters). The filters live in the URL, so reload and share keep them.
 */
@customElement("orw-usage")
export class OrwUsage extends LitElement {
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
      a.button {
        display: inline-block;
        padding: 0.45rem 0.9rem;
        border-radius: 6px;
        background: var(--accent);
        color: #fff;
        text-decoration: none;
      }
    `
  ]

  @state() accessor _filters: UsageFilters = parseFilters(window.location.search)

  private _query: ReturnType<typeof explorerQuery> | undefined
  private _queryKey = ""

  /** The RPC query of the filters, the same object while it asks the same (so sorting or paging fetch nothing). */
  private _currentQuery() {
    const query = explorerQuery(this._filters, utcToday())
    const key = JSON.stringify(query)
    if (this._query === undefined || key !== this._queryKey) {
      this._query = query
      this._queryKey = key
    }
    return this._query
  }

  private readonly _data = new ServerTask(this, {
    args: () => [this._currentQuery()] as const,
    task: ([query], signal) => rpc.usage(query, signal)
  })

  override connectedCallback(): void {
    super.connectedCallback()
    this.addEventListener(FILTERS_CHANGE_EVENT, this._onFilters)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.removeEventListener(FILTERS_CHANGE_EVENT, this._onFilters)
  }

  private readonly _onFilters = (event: Event): void => {
    this._filters = (event as CustomEvent<UsageFilters>).detail
    replaceSearch(filtersToSearch(this._filters))
  }

  private _body(data: UsageExplorer) {
    const chart = seriesBy(data.rows, periodsOf(data), (r) => r.cost, { add: addUsd })
    return html`
      <section class="card" aria-labelledby="chart">
        <h2 id="chart">Cost per ${data.granularity} and ${data.split}</h2>
        <orw-chart
          kind="bars"
          stacked
          label="Cost per ${data.granularity} and ${data.split}"
          .data=${chart}
          .format=${usd}
          .exact=${exactUsd}
        ></orw-chart>
      </section>
      <section class="card" aria-labelledby="rows">
        <div class="head">
          <h2 id="rows">${data.start_date} to ${data.end_date}</h2>
          <a class="button" href=${csvHref(this._filters, utcToday())} download>Export CSV</a>
        </div>
        <orw-usage-table .rows=${data.rows} .totals=${data.totals} .filters=${this._filters}></orw-usage-table>
      </section>
    `
  }

  override render() {
    const value = this._data.value
    const failed = this._data.status === TaskStatus.ERROR
    const loading = this._data.status === TaskStatus.PENDING
    return html`
      <h1>Usage</h1>
      <section class="card" aria-label="Filters">
        <orw-usage-filters
          .filters=${this._filters}
          .keys=${value?.keys ?? []}
          .models=${value?.models ?? []}
        ></orw-usage-filters>
      </section>
      <p class="muted" aria-live="polite">${loading ? "Loading…" : value === undefined ? "" : "Recorded spend, the same figures as the dashboard and the API."}</p>
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._data.error)}</p>` : nothing}
      ${value === undefined || failed ? nothing : this._body(value)}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-usage": OrwUsage
  }
}
