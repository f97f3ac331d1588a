import { TaskStatus } from "@lit/task"
import type { KeyRow, SyncResponse } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing, type PropertyValues } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import { type Action, errorMessage, ServerTask } from "../controllers/server-task.js"
import { limitOf } from "../format.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"

/**
 * Fired after an action on a key was answered, with the sentence that tells what happened (`detail`):
 * `failed` when the answer is bad news (a sync that found the key invalid or failed), so the page shows
 * it as an error, never in the success box.
 */
export const KEY_CHANGED_EVENT = "orw-key-changed"
export interface KeyChanged {
  readonly message: string
  readonly failed: boolean
}

/** Fired when an action on a key starts: the page clears what the previous one said. */
export const KEY_ACTION_STARTED_EVENT = "orw-key-action-started"

const syncOutcome = (key: KeyRow, { outcome, error, recorded }: SyncResponse): KeyChanged =>
  outcome === "ok"
    ? {
        message: `Synced ${key.name}: ${recorded.length === 0 ? "nothing new" : `${recorded.length} new facts recorded`}.`,
        failed: false
      }
    : {
        message: `Sync of ${key.name} ${outcome === "invalid" ? "found the key invalid" : "failed"}: ${error ?? "unknown error"}`,
        failed: true
      }

const done = (message: string): KeyChanged => ({ message, failed: false })

/**
 * What can be done to one key: sync now (not for an inactive key, which the server refuses to sync),
 * rename, (de)activate, delete (after a confirmation).
 */
@customElement("orw-key-actions")
export class OrwKeyActions extends LitElement {
  static override styles = [
    shared,
    css`
      :host {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
      }
      p.error,
      div[role="group"] {
        flex-basis: 100%;
      }
      button {
        padding: 0.3rem 0.6rem;
        font-size: 0.85rem;
      }
      input {
        width: 12rem;
      }
    `
  ]

  /** The key acted upon. */
  @property({ attribute: false }) accessor key: KeyRow | undefined
  /** Whether the user has an active management key, without which OpenRouter's limit cannot be written. */
  @property({ attribute: false }) accessor canSetLimit = true

  @state() accessor _mode: "buttons" | "rename" | "delete" | "limit" = "buttons"

  private readonly _action = new ServerTask(this, {
    autoRun: false,
    task: ([action]: readonly [Action<KeyChanged>], signal) => action(signal),
    onComplete: (changed) => {
      this._mode = "buttons"
      this.dispatchEvent(new CustomEvent(KEY_CHANGED_EVENT, { detail: changed, bubbles: true, composed: true }))
    }
  })

  private _do(action: Action<KeyChanged>): void {
    this.dispatchEvent(new Event(KEY_ACTION_STARTED_EVENT, { bubbles: true, composed: true }))
    void this._action.run([action])
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The field or button the new mode is about gets the focus; back to buttons, "Sync now" does.
    if (changed.get("_mode") !== undefined) this.renderRoot.querySelector<HTMLElement>("input, button")?.focus()
  }

  private _onRename(key: KeyRow, event: SubmitEvent): void {
    event.preventDefault()
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get("name") ?? "").trim()
    this._do((signal) =>
      rpc.renameKey({ key_id: key.id, name }, signal).then(() => done(`Renamed ${key.name} to ${name}.`))
    )
  }

  private _buttons(key: KeyRow, busy: boolean) {
    const sync: Action<KeyChanged> = (signal) =>
      rpc.syncKey({ key_id: key.id }, signal).then((result) => syncOutcome(key, result))
    const toggle: Action<KeyChanged> = (signal) =>
      rpc
        .setKeyActive({ key_id: key.id, is_active: !key.is_active }, signal)
        .then(() => done(`${key.is_active ? "Deactivated" : "Activated"} ${key.name}.`))
    const verb = key.is_active ? "Deactivate" : "Activate"
    return html`
      <button
        type="button"
        aria-label="Sync now: ${key.name}"
        title=${key.is_active ? "Sync this key with OpenRouter now" : "An inactive key is not synced: activate it first"}
        ?disabled=${busy || !key.is_active}
        @click=${() => this._do(sync)}
      >
        ${busy ? "Working…" : "Sync now"}
      </button>
      <button type="button" aria-label="Rename: ${key.name}" @click=${() => (this._mode = "rename")}>Rename</button>
      <button
        type="button"
        aria-label="Set limit: ${key.name}"
        title=${this.canSetLimit ? "Set the key's limit at OpenRouter" : "Add an active management key to set limits from here"}
        ?disabled=${!this.canSetLimit}
        @click=${() => (this._mode = "limit")}
      >
        Set limit
      </button>
      <button type="button" aria-label="${verb}: ${key.name}" ?disabled=${busy} @click=${() => this._do(toggle)}>
        ${verb}
      </button>
      <button type="button" class="danger" aria-label="Delete: ${key.name}" @click=${() => (this._mode = "delete")}>
        Delete
      </button>
    `
  }

  private _rename(key: KeyRow) {
    return html`<form class="row" @submit=${(event: SubmitEvent) => this._onRename(key, event)}>
      <label class="sr-only" for="name">New name for ${key.name}</label>
      <input id="name" name="name" .value=${key.name} required maxlength="100" />
      <button type="submit">Save</button>
      <button type="button" @click=${() => (this._mode = "buttons")}>Cancel</button>
    </form>`
  }

  private _onLimit(key: KeyRow, event: SubmitEvent): void {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const reset = String(form.get("limit_reset") ?? "")
    const limit = limitOf(String(form.get("limit") ?? ""))
    // A number the field accepts but that overflows (1e309) would be sent as null: "no limit". Say so instead.
    if (limit === undefined) {
      const input = (event.currentTarget as HTMLFormElement).elements.namedItem("limit") as HTMLInputElement | null
      input?.setCustomValidity("Enter an amount in USD, or leave it empty for no limit")
      input?.reportValidity()
      return
    }
    const limit_reset = reset === "daily" || reset === "weekly" || reset === "monthly" ? reset : null
    this._do((signal) =>
      rpc
        .setKeyLimit({ key_id: key.id, limit, limit_reset }, signal)
        .then(() =>
          done(
            limit === null
              ? `Removed the limit of ${key.name} at OpenRouter.`
              : `Set ${key.name}'s limit at OpenRouter.`
          )
        )
    )
  }

  private _limit(key: KeyRow) {
    return html`<form class="row" @submit=${(event: SubmitEvent) => this._onLimit(key, event)}>
      <label for="limit">Limit (USD, empty = none)</label>
      <input id="limit" name="limit" type="number" min="0" step="0.01" .value=${key.limit === null ? "" : String(key.limit)}
        @input=${(event: InputEvent) => (event.currentTarget as HTMLInputElement).setCustomValidity("")} />
      <label for="limit_reset">Resets</label>
      <select id="limit_reset" name="limit_reset">
        ${["never", "daily", "weekly", "monthly"].map(
          (r) => html`<option value=${r} ?selected=${(key.limit_reset ?? "never") === r}>${r}</option>`
        )}
      </select>
      <button type="submit">Save at OpenRouter</button>
      <button type="button" @click=${() => (this._mode = "buttons")}>Cancel</button>
    </form>`
  }

  private _confirmDelete(key: KeyRow, busy: boolean) {
    const remove: Action<KeyChanged> = (signal) =>
      rpc.deleteKey({ key_id: key.id }, signal).then(() => done(`Deleted ${key.name}.`))
    return html`<div role="group" aria-label="Confirm deletion of ${key.name}">
      <p>Delete ${key.name}? Its stored key is destroyed.</p>
      <button type="button" class="danger" ?disabled=${busy} @click=${() => this._do(remove)}>Yes, delete</button>
      <button type="button" @click=${() => (this._mode = "buttons")}>Cancel</button>
    </div>`
  }

  override render() {
    const key = this.key
    if (key === undefined) return nothing
    const busy = this._action.status === TaskStatus.PENDING
    return html`
      ${
        this._mode === "rename"
          ? this._rename(key)
          : this._mode === "limit"
            ? this._limit(key)
            : this._mode === "delete"
              ? this._confirmDelete(key, busy)
              : this._buttons(key, busy)
      }
      ${this._action.render({ error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>` })}
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-key-actions": OrwKeyActions
  }
  interface HTMLElementEventMap {
    [KEY_CHANGED_EVENT]: CustomEvent<KeyChanged>
  }
}
