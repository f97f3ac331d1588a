import { TaskStatus } from "@lit/task"
import type { KeyRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"
import { budgetState, localAndUtc, NEAR_BUDGET } from "../budgets.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import "./orw-budget-bar.js"

/**
 * The dashboard's watch list: the budgets at or above 80 % of their amount, over ones first. Read
 * again whenever the dashboard refreshes its keys. Nothing at all when there is no budget.
 */
@customElement("orw-budget-watch")
export class OrwBudgetWatch extends LitElement {
  static override styles = [
    shared,
    css`
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.75rem;
      }
    `
  ]

  /** The user's keys, to name key budgets; a new list reads the budgets again. */
  @property({ attribute: false }) accessor keys: ReadonlyArray<KeyRow> = []

  private readonly _budgets = new ServerTask(this, {
    args: () => [this.keys] as const,
    task: (_, signal) => rpc.listBudgets(undefined, signal)
  })

  override render() {
    if (this._budgets.status === TaskStatus.ERROR)
      return html`<p class="error" role="alert">Budgets: ${errorMessage(this._budgets.error)}</p>`
    const all = this._budgets.value?.items
    if (all === undefined || all.length === 0) return nothing
    const watched = all
      .map((b) => ({ budget: b, state: budgetState(b) }))
      .filter((w) => w.state !== "ok")
      .sort((a, b) => b.budget.spent / b.budget.amount - a.budget.spent / a.budget.amount)
    const nameOf = (keyId: string | null) =>
      keyId === null ? "Account" : (this.keys.find((k) => k.id === keyId)?.name ?? "Deleted key")
    return html`<section class="card" aria-labelledby="watch-title">
      <h2 id="watch-title">Budgets near or over their amount</h2>
      ${
        watched.length === 0
          ? html`<p class="muted">All ${all.length} budgets are below ${NEAR_BUDGET * 100} % of their amount.</p>`
          : html`<ul>
              ${watched.map(({ budget }) => {
                const label = `${nameOf(budget.key_id)}, ${budget.period}`
                return html`<li>
                  <strong>${label}</strong>
                  <orw-budget-bar label="Budget: ${label}" .spent=${budget.spent} .projected=${budget.projected}
                    .amount=${budget.amount}></orw-budget-bar>
                  <span class="hint">resets ${localAndUtc(budget.period_end).local} your time
                    (${localAndUtc(budget.period_end).utc})</span>
                </li>`
              })}
            </ul>`
      }
    </section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-budget-watch": OrwBudgetWatch
  }
}
