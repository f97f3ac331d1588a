import { html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"
import { count, usd } from "../format.js"
import { shared } from "../styles.js"

/** One row of a {@link OrwSpendTable}. */
export interface SpendRow {
  readonly label: string
  readonly value: number
  readonly requests: number
  readonly highlight?: boolean
}

/** Cost and requests per label (key, model or day): the figures behind a chart, readable by everyone. */
@customElement("orw-spend-table")
export class OrwSpendTable extends LitElement {
  static override styles = [shared]

  /** The table's caption, also its accessible name. */
  @property() accessor caption = ""
  /** The header of the label column. */
  @property() accessor heading = ""
  /** The rows, in display order. */
  @property({ attribute: false }) accessor rows: ReadonlyArray<SpendRow> = []

  override render() {
    return html`<table>
      <caption class="sr-only">${this.caption}</caption>
      <thead>
        <tr>
          <th scope="col">${this.heading}</th>
          <th scope="col" class="num">Cost</th>
          <th scope="col" class="num">Requests</th>
        </tr>
      </thead>
      <tbody>
        ${this.rows.map(
          (row) => html`<tr>
            <th scope="row">
              ${row.label}${row.highlight === true ? html` <span class="hint">(near limit)</span>` : nothing}
            </th>
            <td class="num">${usd(row.value)}</td>
            <td class="num">${count(row.requests)}</td>
          </tr>`
        )}
      </tbody>
    </table>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-spend-table": OrwSpendTable
  }
}
