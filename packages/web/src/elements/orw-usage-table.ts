import type { ExplorerRow, ExplorerTotals } from "@orw/domain/Rpc"
import type { SortColumn } from "@orw/domain/Usage/Explorer"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"
import { exactUsd } from "../chart-data.js"
import { count, usd } from "../format.js"
import { shared } from "../styles.js"
import { toggleSort, type UsageFilters } from "../usage-filters.js"
import { periodHeading, periodLabel, tableView } from "../usage-table.js"
import { FILTERS_CHANGE_EVENT } from "./orw-usage-filters.js"

/**
 * The explorer's rows: sortable columns (the header buttons), a page at a time, and the exact totals of every
 * row of the filter (the server's, summed in micro-dollars). Sorting and paging go out as new filters.
 */
@customElement("orw-usage-table")
export class OrwUsageTable extends LitElement {
  static override styles = [
    shared,
    css`
      .scroll {
        overflow-x: auto;
      }
      th button {
        all: unset;
        cursor: pointer;
        font-weight: 600;
      }
      th button:focus-visible {
        outline: 3px solid var(--focus);
      }
      tfoot th,
      tfoot td {
        font-weight: 700;
        border-top: 2px solid var(--line-strong);
      }
      .label {
        overflow-wrap: anywhere;
        min-width: 8rem;
      }
      @media (max-width: 720px) {
        table.cards tfoot {
          display: block;
        }
      }
      nav {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
        margin-top: 0.75rem;
      }
    `
  ]

  @property({ attribute: false }) accessor rows: ReadonlyArray<ExplorerRow> = []
  @property({ attribute: false }) accessor totals: ExplorerTotals | undefined
  @property({ attribute: false }) accessor filters: UsageFilters | undefined

  private _emit(filters: UsageFilters): void {
    this.dispatchEvent(new CustomEvent(FILTERS_CHANGE_EVENT, { detail: filters, bubbles: true, composed: true }))
  }

  private _head(filters: UsageFilters, column: SortColumn, text: string, numeric = false) {
    const sorted = filters.sort === column
    const ariaSort = sorted ? (filters.order === "asc" ? "ascending" : "descending") : "none"
    const arrow = sorted ? (filters.order === "asc" ? " ▲" : " ▼") : ""
    return html`<th scope="col" class=${numeric ? "num" : ""} aria-sort=${ariaSort}>
      <button type="button" @click=${() => this._emit(toggleSort(filters, column))}>${text}${arrow}</button>
    </th>`
  }

  override render() {
    const filters = this.filters
    if (filters === undefined) return nothing
    const view = tableView(this.rows, filters)
    const totals = this.totals
    return html`<div class="scroll">
        <table class="cards">
          <caption class="sr-only">Usage rows, page ${view.page} of ${view.pages}</caption>
          <thead>
            <tr>
              ${this._head(filters, "date", periodHeading(filters.granularity))}
              ${this._head(filters, "label", filters.split === "model" ? "Model" : "Key")}
              ${this._head(filters, "requests", "Requests", true)}
              ${this._head(filters, "tokens_input", "Tokens in", true)}
              ${this._head(filters, "tokens_output", "Tokens out", true)}
              ${this._head(filters, "cost", "Cost", true)}
            </tr>
          </thead>
          <tbody>
            ${
              view.shown.length === 0
                ? html`<tr><td colspan="6" class="muted">No usage for these filters.</td></tr>`
                : view.shown.map(
                    (r) => html`<tr>
                      <td data-label=${periodHeading(filters.granularity)}>${periodLabel(r.date, filters.granularity)}</td>
                      <td class="label" data-label=${filters.split === "model" ? "Model" : "Key"}>${r.label}${r.estimated ? html` <span class="hint">(estimate)</span>` : nothing}</td>
                      <td class="num" data-label="Requests">${count(r.requests)}</td>
                      <td class="num" data-label="Tokens in">${count(r.tokens_input)}</td>
                      <td class="num" data-label="Tokens out">${count(r.tokens_output)}</td>
                      <td class="num" data-label="Cost" title=${exactUsd(r.cost)}>${usd(r.cost)}</td>
                    </tr>`
                  )
            }
          </tbody>
          ${
            totals === undefined
              ? nothing
              : html`<tfoot>
                  <tr>
                    <th scope="row" colspan="2">Total of ${count(view.sorted.length)} rows</th>
                    <td class="num" data-label="Requests">${count(totals.requests)}</td>
                    <td class="num" data-label="Tokens in">${count(totals.tokens_input)}</td>
                    <td class="num" data-label="Tokens out">${count(totals.tokens_output)}</td>
                    <td class="num" data-label="Cost" title=${exactUsd(totals.cost)}>${usd(totals.cost)}</td>
                  </tr>
                </tfoot>`
          }
        </table>
      </div>
      ${
        view.pages > 1
          ? html`<nav aria-label="Pages">
              <button
                type="button"
                ?disabled=${view.page <= 1}
                @click=${() => this._emit({ ...filters, page: view.page - 1 })}
              >
                Previous
              </button>
              <span>Page ${view.page} of ${view.pages}</span>
              <button
                type="button"
                ?disabled=${view.page >= view.pages}
                @click=${() => this._emit({ ...filters, page: view.page + 1 })}
              >
                Next
              </button>
            </nav>`
          : nothing
      }`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-usage-table": OrwUsageTable
  }
}
