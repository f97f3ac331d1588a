import { TaskStatus } from "@lit/task"
import type { KeyRow } from "@orw/domain/Rpc"
import { html, LitElement } from "lit"
import { customElement } from "lit/decorators.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import { KEY_ACTION_STARTED_EVENT, KEY_CHANGED_EVENT, type KeyChanged } from "./orw-key-actions.js"

/** Fired with the new key's row (`detail`) once a key is stored. */
export const KEY_ADDED_EVENT = "orw-key-added"

/** The form that stores a new OpenRouter key; the key is sent once and never shown again. */
@customElement("orw-key-add")
export class OrwKeyAdd extends LitElement {
  static override styles = [shared]

  private readonly _add = new ServerTask(this, {
    autoRun: false,
    task: ([name, key]: readonly [string, string], signal) => rpc.addKey({ name, key }, signal),
    onComplete: (row: KeyRow) => {
      this.renderRoot.querySelector("form")?.reset()
      this.dispatchEvent(new CustomEvent<KeyRow>(KEY_ADDED_EVENT, { detail: row, bubbles: true, composed: true }))
      // Said by the page's one status line, which the next action on any key clears.
      const added: KeyChanged = { message: `Added ${row.name} (${row.label}).`, failed: false }
      this.dispatchEvent(new CustomEvent(KEY_CHANGED_EVENT, { detail: added, bubbles: true, composed: true }))
    }
  })

  private readonly _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    const data = new FormData(event.currentTarget as HTMLFormElement)
    this.dispatchEvent(new Event(KEY_ACTION_STARTED_EVENT, { bubbles: true, composed: true }))
    void this._add.run([String(data.get("name") ?? "").trim(), String(data.get("key") ?? "").trim()])
  }

  override render() {
    const pending = this._add.status === TaskStatus.PENDING
    return html`<form @submit=${this._onSubmit} aria-labelledby="add-title">
      <h2 id="add-title">Add a key</h2>
      <div class="row">
        <label>Name <input name="name" required maxlength="100" placeholder="Production" /></label>
        <label>
          OpenRouter key
          <input
            name="key"
            type="password"
            required
            autocomplete="off"
            spellcheck="false"
            size="50"
            aria-describedby="key-hint"
            placeholder="sk-or-v1-…"
          />
        </label>
      </div>
      <span class="hint" id="key-hint">
        Starts with <code>sk-or-v1-</code> followed by 64 hex characters. It is encrypted at rest and never shown again;
        add a management key too to see per-model usage and your balance.
      </span>
      ${this._add.render({ error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>` })}
      <div>
        <button class="primary" type="submit" ?disabled=${pending}>${pending ? "Adding…" : "Add key"}</button>
      </div>
    </form>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-key-add": OrwKeyAdd
  }
  interface HTMLElementEventMap {
    [KEY_ADDED_EVENT]: CustomEvent<KeyRow>
  }
}
