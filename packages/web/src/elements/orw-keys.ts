import { TaskStatus } from "@lit/task"
import type { KeyRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { dateTime, NEAR_LIMIT, remainingShare } from "../format.js"
import { moneyOr } from "../money.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import "./orw-budgets.js"
import { KEY_ACTION_STARTED_EVENT, KEY_CHANGED_EVENT, type KeyChanged } from "./orw-key-actions.js"
import "./orw-key-add.js"
import "./orw-status-badge.js"

const money = (value: number | null) => moneyOr(value, "–")

/** How a limit renews: "resets daily", "never resets". */
export const resetText = (reset: string | null): string => (reset === null ? "never resets" : `resets ${reset}`)

/**
 * The limit always with its reset period: "$1.00 of $5.00 left · resets daily", "no limit"; a limit used up
 * is its own state ("limit reached"), as the key's status says (domain ApiKey/Health).
 */
const limitText = (key: KeyRow) =>
  key.limit === null
    ? "no limit"
    : key.status === "limit reached" || key.limit_remaining === 0
      ? html`<strong>limit reached</strong> (${money(key.limit)}) <span class="reset">· ${resetText(key.limit_reset)}</span>`
      : html`<span class="nowrap">${money(key.limit_remaining)} of ${money(key.limit)} left</span> <span class="reset">· ${resetText(key.limit_reset)}</span>`

/** "never synced", the time of the last sync, or when the last attempt failed (and the last success, if any). */
const syncText = (key: KeyRow) => {
  if (key.last_error !== null && key.last_attempt_at !== null && key.last_attempt_at !== key.last_synced_at)
    return html`<span class="failed">last attempt failed at <span class="nowrap">${dateTime(key.last_attempt_at)}</span></span>
      <div class="hint">last success: ${key.last_synced_at === null ? "never" : dateTime(key.last_synced_at)}</div>`
  return key.last_synced_at === null
    ? html`<span class="muted">never synced</span>`
    : html`<span class="nowrap">${dateTime(key.last_synced_at)}</span>`
}

/**
 * The last difference the daily reconciliation found with OpenRouter, as a short notice: which day and model (or
 * the all-time total), both figures. A day's figures were recorded again from OpenRouter since.
 */
const discrepancyNotice = (key: KeyRow) => {
  const d = key.last_discrepancy
  if (d === null) return nothing
  const what = d.scope === "all-time" ? "all-time total" : `${d.date} ${d.model}`
  const healed = d.scope === "day" ? " (re-recorded from OpenRouter)" : ""
  // To the micro-dollar: the difference may be smaller than the cents money shows elsewhere.
  const exact = (n: number) => `$${n.toFixed(6)}`
  return html`<div class="hint discrepancy" role="note">
    Reconciliation ${dateTime(d.found_at)}: ${what} was ${exact(d.recorded)} here, ${exact(d.upstream)} at
    OpenRouter${healed}
  </div>`
}

/** The user's OpenRouter keys: health, limit and what is left, usage windows, last sync, and the actions. */
@customElement("orw-keys")
export class OrwKeys extends LitElement {
  static override styles = [
    shared,
    css`
      .label {
        font-family: ui-monospace, monospace;
        font-size: 0.8rem;
      }
      tr.near td.limit,
      .failed {
        color: var(--warn);
        font-weight: 600;
      }
      td.upstream {
        color: var(--muted, #666);
        font-size: 0.8rem;
      }
      .scroll {
        overflow-x: auto;
      }
      .discrepancy {
        color: var(--warn);
      }
      /* The reset period on a line of its own, not wherever the column happens to break. */
      .reset {
        display: block;
        white-space: nowrap;
      }
      @media (min-width: 721px) {
        orw-key-actions {
          min-width: 13.5rem;
        }
      }
    `
  ]

  /** What the last action did, announced politely (or as an error, when it is bad news). */
  @state() accessor _done: KeyChanged | null = null

  private readonly _keys = new ServerTask(this, {
    args: () => [] as const,
    task: (_, signal) => rpc.listKeys(undefined, signal)
  })

  private readonly _onChanged = (event: CustomEvent<KeyChanged>): void => {
    this._done = event.detail
    void this._keys.run()
  }

  /** The next action starts: what the previous one said no longer applies. */
  private readonly _onStarted = (): void => {
    this._done = null
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this.addEventListener(KEY_ACTION_STARTED_EVENT, this._onStarted)
    this.addEventListener(KEY_CHANGED_EVENT, this._onChanged)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.removeEventListener(KEY_ACTION_STARTED_EVENT, this._onStarted)
    this.removeEventListener(KEY_CHANGED_EVENT, this._onChanged)
  }

  private _row(key: KeyRow, canSetLimit: boolean) {
    const near = (remainingShare(key) ?? 1) < NEAR_LIMIT
    const management = key.is_management_key === true ? html` <span class="hint">(management)</span>` : nothing
    return html`<tr class=${near ? "near" : ""}>
      <td>
        <strong>${key.name}</strong>${management}
        <div class="label nowrap">${key.label}</div>
      </td>
      <td data-label="Health">
        <orw-status-badge status=${key.status}></orw-status-badge>
        ${key.last_error === null ? nothing : html`<div class="hint">${key.last_error}</div>`}
        ${discrepancyNotice(key)}
      </td>
      <td class="num limit" data-label="Remaining of limit">${limitText(key)}</td>
      <td class="num" data-label="Today (recorded)">
        ${money(key.spend_today)} <span class="hint" title="Today is still running: an estimate until OpenRouter reports the day per model">est.</span>
        <div class="hint">${key.requests_today} requests</div>
      </td>
      <td class="num" data-label="All time (recorded)">${money(key.spend_total)}</td>
      <td class="num upstream" data-label="OpenRouter's counters">
        ${
          key.usage_total === null
            ? "–"
            : html`today ${money(key.usage_daily)}<br />month ${money(key.usage_monthly)}<br />all time ${money(
                key.usage_total
              )}`
        }
      </td>
      <td data-label="Last synced (UTC)">${syncText(key)}</td>
      <td><orw-key-actions .key=${key} .canSetLimit=${canSetLimit}></orw-key-actions></td>
    </tr>`
  }

  private _table(keys: ReadonlyArray<KeyRow>) {
    // Limits are written through a management key (PUT /api/keys/{id}/limit answers 400 without one).
    const canSetLimit = keys.some((k) => k.is_management_key === true && k.is_active)
    return html`<table class="cards">
      <caption class="sr-only">Your OpenRouter keys</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Health</th>
          <th scope="col" class="num">Remaining of limit</th>
          <th scope="col" class="num" title="Recorded spend of the current UTC day, as on the dashboard">
            Today (recorded)
          </th>
          <th scope="col" class="num" title="Recorded spend of all time, as on the dashboard and the API">
            All time (recorded)
          </th>
          <th scope="col" class="num" title="OpenRouter's own counters from GET /key at the last sync, for reference">
            OpenRouter's counters
          </th>
          <th scope="col">Last synced (UTC)</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>${keys.map((key) => this._row(key, canSetLimit))}</tbody>
    </table>`
  }

  override render() {
    const keys = this._keys.value
    const failed = this._keys.status === TaskStatus.ERROR
    return html`
      <h1>Keys</h1>
      <section class="card"><orw-key-add></orw-key-add></section>
      <p class=${this._done === null || this._done.failed ? "" : "notice"} role="status">
        ${this._done === null || this._done.failed ? "" : this._done.message}
      </p>
      ${this._done?.failed === true ? html`<p class="error" role="alert">${this._done.message}</p>` : nothing}
      ${failed ? html`<p class="error" role="alert">${errorMessage(this._keys.error)}</p>` : nothing}
      <section class="card scroll" aria-labelledby="keys-title">
        <h2 id="keys-title">Your keys</h2>
        ${
          keys === undefined || keys.length === 0
            ? html`<p class="muted">${keys === undefined ? "Loading…" : "No keys yet."}</p>`
            : this._table(keys)
        }
      </section>
      ${keys === undefined ? nothing : html`<orw-budgets .keys=${keys}></orw-budgets>`}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-keys": OrwKeys
  }
}
