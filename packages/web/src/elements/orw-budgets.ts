import { TaskStatus } from "@lit/task"
import type { KeyRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import "./orw-budget-editor.js"

/**
 * Budgets for the account and for each key: reloaded whenever the keys are (a sync changes what
 * is spent) and after every change made here.
 */
@customElement("orw-budgets")
export class OrwBudgets extends LitElement {
  static override styles = [
    shared,
    css`
      .scopes {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 320px), 1fr));
        gap: 1rem;
      }
      .scope {
        border: 1px solid var(--line);
        border-radius: 8px;
        padding: 0.75rem;
        min-width: 0;
      }
      h3 {
        margin: 0 0 0.25rem;
        font-size: 1rem;
      }
    `
  ]

  /** The user's keys, each of which gets its own budgets. */
  @property({ attribute: false }) accessor keys: ReadonlyArray<KeyRow> = []

  private readonly _budgets = new ServerTask(this, {
    args: () => [this.keys] as const,
    task: (_, signal) => rpc.listBudgets(undefined, signal)
  })

  private readonly _onChanged = (): void => void this._budgets.run()

  private _scope(name: string, keyId: string) {
    const budgets = (this._budgets.value?.items ?? []).filter((b) => (b.key_id ?? "") === keyId)
    return html`<section class="scope" aria-label="Budgets of ${name}">
      <h3>${name}</h3>
      <orw-budget-editor name=${name} key-id=${keyId} .budgets=${budgets}></orw-budget-editor>
    </section>`
  }

  override render() {
    const failed = this._budgets.status === TaskStatus.ERROR
    return html`<section class="card" aria-labelledby="budgets-title" @orw-budgets-changed=${this._onChanged}>
      <h2 id="budgets-title">Budgets</h2>
      <p class="hint">
        Spend per period (UTC days; weeks start Monday 00:00 UTC) against an amount; an alert fires once per
        threshold and period.
      </p>
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._budgets.error)}</p>` : nothing}
      ${
        this._budgets.value === undefined
          ? html`<p class="muted">${failed ? "" : "Loading…"}</p>`
          : html`<div class="scopes">
              ${this._scope("Account", "")} ${this.keys.map((key) => this._scope(key.name, key.id))}
            </div>`
      }
    </section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-budgets": OrwBudgets
  }
}
