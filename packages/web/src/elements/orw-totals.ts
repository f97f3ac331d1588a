import type { Dashboard } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"
import { count, usd, usdOrUnknown } from "../format.js"
import { shared } from "../styles.js"

/** The dashboard's headline figures: spend, requests, tokens, and the balance (or "unknown", never $0). */
@customElement("orw-totals")
export class OrwTotals extends LitElement {
  static override styles = [
    shared,
    css`
      section {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(190px, 1fr));
        gap: 1rem;
        margin-bottom: 1rem;
      }
      .card {
        margin: 0;
      }
      .figure {
        font-size: 1.6rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
      }
    `
  ]

  /** The totals of the dashboard's range. */
  @property({ attribute: false }) accessor summary: Dashboard["summary"] | undefined

  override render() {
    const summary = this.summary
    if (summary === undefined) return nothing
    return html`<section aria-label="Totals">
      <div class="card">
        <div class="muted">Total spend</div>
        <div class="figure" id="total-cost">${usd(summary.total_cost)}</div>
      </div>
      <div class="card">
        <div class="muted">Requests</div>
        <div class="figure">${count(summary.total_requests)}</div>
      </div>
      <div class="card">
        <div class="muted">Tokens in / out</div>
        <div class="figure">${count(summary.total_tokens_input)} / ${count(summary.total_tokens_output)}</div>
      </div>
      <div class="card">
        <div class="muted">Balance</div>
        <div class="figure" id="balance">${usdOrUnknown(summary.balance)}</div>
        ${summary.balance === null ? html`<div class="hint">Add a management key to see it.</div>` : nothing}
      </div>
    </section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-totals": OrwTotals
  }
}
