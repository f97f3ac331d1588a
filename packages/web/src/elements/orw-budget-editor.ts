import { TaskStatus } from "@lit/task"
import type { BudgetRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing, type PropertyValues } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import { localAndUtc, PERIODS, type Period, parseThresholds } from "../budgets.js"
import { type Action, errorMessage, ServerTask } from "../controllers/server-task.js"
import { usd } from "../format.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import "./orw-budget-bar.js"

/** Fired (bubbling, composed) after a budget was set, changed or deleted. */
export const BUDGETS_CHANGED_EVENT = "orw-budgets-changed"

const PERIOD_LABEL: Record<Period, string> = { daily: "Daily", weekly: "Weekly", monthly: "Monthly" }

/**
 * The budgets of one scope: the whole account (`key-id` empty) or one key. Each budget shows its
 * progress and reset time and can be changed or deleted (after a confirmation); a form sets one
 * for each period not budgeted yet.
 */
@customElement("orw-budget-editor")
export class OrwBudgetEditor extends LitElement {
  static override styles = [
    shared,
    css`
      article {
        border-top: 1px solid var(--line);
        padding: 0.6rem 0;
      }
      h3 {
        font-size: 0.95rem;
        margin: 0 0 0.35rem;
      }
      select,
      input {
        font: inherit;
        padding: 0.4rem;
        border-radius: 6px;
        border: 1px solid var(--line-strong);
        background: var(--bg);
        color: var(--fg);
        min-width: 0;
      }
      input[name="amount"] {
        width: 7rem;
      }
      input[name="thresholds"] {
        width: 9rem;
      }
      form.row {
        display: flex;
        align-items: end;
      }
      p {
        margin: 0.35rem 0;
      }
    `
  ]

  /** Whose budgets: "Account" or the key's name. */
  @property() accessor name = ""
  /** The key of a `key` budget; empty for the account's. */
  @property({ attribute: "key-id" }) accessor keyId = ""
  /** This scope's budgets (of every period). */
  @property({ attribute: false }) accessor budgets: ReadonlyArray<BudgetRow> = []

  @state() accessor _editing = ""
  @state() accessor _deleting = ""
  /** What the last action did; cleared when the next one starts. */
  @state() accessor _done = ""
  /** A refusal found before anything was sent. */
  @state() accessor _invalid = ""

  private readonly _action = new ServerTask(this, {
    autoRun: false,
    task: ([action]: readonly [Action<string>], signal) => action(signal),
    onComplete: (sentence) => {
      this._done = sentence
      this._editing = ""
      this._deleting = ""
      this.renderRoot.querySelector<HTMLFormElement>("form.add")?.reset()
      this.dispatchEvent(new Event(BUDGETS_CHANGED_EVENT, { bubbles: true, composed: true }))
    }
  })

  private _do(action: Action<string>): void {
    this._done = ""
    this._invalid = ""
    void this._action.run([action])
  }

  protected override updated(changed: PropertyValues<this>): void {
    // Opening an edit or a confirmation moves the focus into it.
    if (changed.has("_editing") && this._editing !== "")
      this.renderRoot.querySelector<HTMLElement>("form.edit input")?.focus()
    if (changed.has("_deleting") && this._deleting !== "")
      this.renderRoot.querySelector<HTMLElement>(".confirm button")?.focus()
  }

  /** Reads amount and thresholds of a form; `undefined` (with the reason shown) when they are not numbers. */
  private _read(form: HTMLFormElement) {
    const data = new FormData(form)
    const amount = Number(data.get("amount"))
    const typed = String(data.get("thresholds") ?? "").trim()
    const thresholds = typed === "" ? undefined : parseThresholds(typed)
    if (!Number.isFinite(amount) || thresholds === null) {
      this._done = ""
      this._invalid = "Enter the amount in USD and the thresholds as percents, e.g. 50, 80, 100."
      return undefined
    }
    return { amount, thresholds, period: String(data.get("period") ?? "") }
  }

  private readonly _onAdd = (event: SubmitEvent): void => {
    event.preventDefault()
    const read = this._read(event.currentTarget as HTMLFormElement)
    const period = PERIODS.find((p) => p === read?.period)
    if (read === undefined || period === undefined) return
    const scope = this.keyId === "" ? { scope: "account" as const } : { scope: "key" as const, key_id: this.keyId }
    const sentence = `Set a ${period} budget of ${usd(read.amount)} for ${this.name}.`
    this._do((signal) =>
      rpc
        .createBudget({ ...scope, period, amount: read.amount, thresholds: read.thresholds }, signal)
        .then(() => sentence)
    )
  }

  private _onEdit(budget: BudgetRow, event: SubmitEvent): void {
    event.preventDefault()
    const read = this._read(event.currentTarget as HTMLFormElement)
    if (read === undefined) return
    const sentence = `Changed the ${budget.period} budget of ${this.name} to ${usd(read.amount)}.`
    this._do((signal) =>
      rpc
        .updateBudget({ budget_id: budget.id, amount: read.amount, thresholds: read.thresholds }, signal)
        .then(() => sentence)
    )
  }

  private _delete(budget: BudgetRow): void {
    const sentence = `Deleted the ${budget.period} budget of ${this.name}.`
    this._do((signal) => rpc.deleteBudget({ budget_id: budget.id }, signal).then(() => sentence))
  }

  private _fields(budget: BudgetRow | undefined, id: string) {
    return html`<label for="amount-${id}">Amount (USD)
        <input id="amount-${id}" name="amount" type="number" min="0.01" step="0.01" required
          .value=${budget === undefined ? "" : String(budget.amount)} />
      </label>
      <label for="thresholds-${id}">Thresholds (%)
        <input id="thresholds-${id}" name="thresholds" inputmode="numeric" placeholder="50, 80, 100"
          .value=${budget === undefined ? "" : budget.thresholds.join(", ")} />
      </label>`
  }

  private _budget(budget: BudgetRow, busy: boolean) {
    const what = `${budget.period} budget of ${this.name}`
    const reset = localAndUtc(budget.period_end)
    const body =
      this._editing === budget.id
        ? html`<form class="row edit" aria-label="Change the ${what}" @submit=${(e: SubmitEvent) => this._onEdit(budget, e)}>
            ${this._fields(budget, budget.id)}
            <button type="submit" class="primary" ?disabled=${busy}>Save</button>
            <button type="button" @click=${() => (this._editing = "")}>Cancel</button>
          </form>`
        : this._deleting === budget.id
          ? html`<div class="row confirm" role="group" aria-label="Confirm deletion of the ${what}">
              <span>Delete the ${what}?</span>
              <button type="button" class="danger" ?disabled=${busy} @click=${() => this._delete(budget)}>Yes, delete</button>
              <button type="button" @click=${() => (this._deleting = "")}>Cancel</button>
            </div>`
          : html`<div class="row">
              <button type="button" aria-label="Edit the ${what}" @click=${() => this._open("edit", budget)}>Edit</button>
              <button type="button" class="danger" aria-label="Delete the ${what}" @click=${() => this._open("delete", budget)}>
                Delete
              </button>
            </div>`
    return html`<article aria-label="${PERIOD_LABEL[budget.period]} budget of ${this.name}">
      <h3>${PERIOD_LABEL[budget.period]} · ${usd(budget.amount)}</h3>
      <orw-budget-bar label="${PERIOD_LABEL[budget.period]} budget of ${this.name}" .spent=${budget.spent}
        .projected=${budget.projected} .amount=${budget.amount}></orw-budget-bar>
      <p class="hint">
        Alerts at ${budget.thresholds.map((t) => `${t} %`).join(", ")} · resets
        <time datetime=${budget.period_end}>${reset.local}</time> your time (${reset.utc})
      </p>
      ${body}
    </article>`
  }

  private _open(mode: "edit" | "delete", budget: BudgetRow): void {
    this._done = ""
    this._invalid = ""
    this._editing = mode === "edit" ? budget.id : ""
    this._deleting = mode === "delete" ? budget.id : ""
  }

  private _add(busy: boolean) {
    const free = PERIODS.filter((p) => !this.budgets.some((b) => b.period === p))
    if (free.length === 0) return nothing
    const id = `new-${this.keyId || "account"}`
    return html`<form class="row add" aria-label="New budget for ${this.name}" @submit=${this._onAdd}>
      <label for="period-${id}">Period
        <select id="period-${id}" name="period">
          ${free.map((p) => html`<option value=${p}>${PERIOD_LABEL[p]}</option>`)}
        </select>
      </label>
      ${this._fields(undefined, id)}
      <button type="submit" class="primary" ?disabled=${busy}>Set budget</button>
    </form>`
  }

  override render() {
    const busy = this._action.status === TaskStatus.PENDING
    const failed = this._action.status === TaskStatus.ERROR
    const message = this._invalid !== "" ? this._invalid : failed ? errorMessage(this._action.error) : ""
    return html`
      ${this.budgets.map((budget) => this._budget(budget, busy))}
      ${this._add(busy)}
      <p class=${this._done === "" ? "" : "notice"} role="status">${this._done}</p>
      ${message === "" ? nothing : html`<p class="error" role="alert">${message}</p>`}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-budget-editor": OrwBudgetEditor
  }
}
