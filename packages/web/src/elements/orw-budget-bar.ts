import { css, html, LitElement, svg } from "lit"
import { customElement, property } from "lit/decorators.js"
import { budgetState, percentOf } from "../budgets.js"
import { usd } from "../format.js"

/**
 * A budget's progress: what is spent (solid) and what the period is projected to reach (light)
 * against the amount (the dark mark), scaled so that the largest of the three fits.
 */
@customElement("orw-budget-bar")
export class OrwBudgetBar extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    svg {
      display: block;
      width: 100%;
      height: 0.75rem;
      border-radius: 999px;
    }
    .track {
      fill: var(--line);
    }
    .projected {
      fill: var(--accent-soft);
    }
    .spent {
      fill: var(--accent);
    }
    .near .spent {
      fill: var(--warn);
    }
    .over .spent {
      fill: var(--bad);
    }
    .amount {
      fill: var(--fg);
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 0 1rem;
      margin-top: 0.25rem;
      font-size: 0.85rem;
      color: var(--muted);
    }
    .legend strong {
      color: var(--fg);
    }
    .over .legend strong {
      color: var(--bad);
    }
  `

  /** USD spent in the period. */
  @property({ type: Number }) accessor spent = 0
  /** USD the period reaches at its current pace. */
  @property({ type: Number }) accessor projected = 0
  /** The budget's amount in USD. */
  @property({ type: Number }) accessor amount = 0
  /** What the bar measures, for assistive technology (e.g. "Monthly budget of Production"). */
  @property() accessor label = ""

  override render() {
    const scale = Math.max(this.amount, this.spent, this.projected) || 1
    const width = (value: number) => Math.min(100, (value / scale) * 100)
    const state = budgetState(this)
    const share = percentOf(this.spent, this.amount)
    const text = `${usd(this.spent)} of ${usd(this.amount)} spent (${share}), projected ${usd(this.projected)}`
    return html`<div class=${state}>
      <div
        role="progressbar"
        aria-label=${this.label}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${Math.min(100, this.amount > 0 ? Math.floor((this.spent / this.amount) * 100) : 0)}
        aria-valuetext=${text}
      >
        <svg viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
          ${svg`<rect class="track" width="100" height="4"></rect>
            <rect class="projected" width=${width(this.projected)} height="4"></rect>
            <rect class="spent" width=${width(this.spent)} height="4"></rect>
            <rect class="amount" x=${Math.max(0, width(this.amount) - 0.6)} width="0.6" height="4"></rect>`}
        </svg>
      </div>
      <div class="legend">
        <span><strong>${usd(this.spent)}</strong> of ${usd(this.amount)} spent (${share})${
          state === "over" ? " · over budget" : state === "near" ? " · near budget" : ""
        }</span>
        <span>projected ${usd(this.projected)}</span>
      </div>
    </div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-budget-bar": OrwBudgetBar
  }
}
