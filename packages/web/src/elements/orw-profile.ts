import { consume } from "@lit/context"
import { TaskStatus } from "@lit/task"
import type { UserResponse } from "@orw/domain/Rpc"
import { html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { deleteAccount, login } from "../auth.js"
import { sessionContext } from "../contexts/session-context.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { day } from "../format.js"
import { ACCOUNT_DELETED_EVENT } from "../navigation.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import "./orw-password-rules.js"

const field = (form: HTMLFormElement, name: string) => String(new FormData(form).get(name) ?? "")

/** The account: change the password (then sign in again with it, as the change ends every session), delete it. */
@customElement("orw-profile")
export class OrwProfile extends LitElement {
  static override styles = [shared]

  @consume({ context: sessionContext, subscribe: true })
  @state()
  accessor _me: UserResponse | null = null

  @state() accessor _password = ""

  private readonly _change = new ServerTask(this, {
    autoRun: false,
    task: async ([email, current, next, confirm]: readonly [string, string, string, string], signal) => {
      await rpc.changePassword({ current_password: current, new_password: next, new_password_confirm: confirm }, signal)
      await login(email, next)
    },
    onComplete: () => {
      this.renderRoot.querySelector<HTMLFormElement>("#password-form")?.reset()
      this._password = ""
    }
  })

  private readonly _delete = new ServerTask(this, {
    autoRun: false,
    task: ([password]: readonly [string]) => deleteAccount(password),
    onComplete: () => this.dispatchEvent(new Event(ACCOUNT_DELETED_EVENT, { bubbles: true, composed: true }))
  })

  private readonly _onChange = (event: SubmitEvent): void => {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    const args = [this._me?.email ?? "", field(form, "current"), field(form, "new"), field(form, "confirm")] as const
    void this._change.run(args)
  }

  private readonly _onDelete = (event: SubmitEvent): void => {
    event.preventDefault()
    void this._delete.run([field(event.currentTarget as HTMLFormElement, "password")])
  }

  private readonly _onPassword = (event: InputEvent): void => {
    this._password = (event.target as HTMLInputElement).value
  }

  private _passwordForm() {
    const changing = this._change.status === TaskStatus.PENDING
    return html`<form id="password-form" @submit=${this._onChange} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <label>
        Current password <input name="current" type="password" autocomplete="current-password" required />
      </label>
      <label>
        New password
        <input
          name="new"
          type="password"
          autocomplete="new-password"
          required
          aria-describedby="rules"
          @input=${this._onPassword}
        />
      </label>
      <orw-password-rules id="rules" .password=${this._password}></orw-password-rules>
      <label>
        Confirm new password <input name="confirm" type="password" autocomplete="new-password" required />
      </label>
      ${this._change.render({
        error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>`,
        complete: () => html`<p class="notice" role="status">Password changed. Other sessions have been signed out.</p>`
      })}
      <div>
        <button class="primary" type="submit" ?disabled=${changing}>
          ${changing ? "Changing…" : "Change password"}
        </button>
      </div>
    </form>`
  }

  private _deleteForm() {
    const deleting = this._delete.status === TaskStatus.PENDING
    return html`<form @submit=${this._onDelete} aria-labelledby="delete-title">
      <h2 id="delete-title">Delete account</h2>
      <p class="hint">
        Deletes your account, your keys (their encrypted copies become unreadable), tokens and usage figures. This
        cannot be undone.
      </p>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <label class="row">
        <input type="checkbox" name="sure" required /> I understand that this cannot be undone
      </label>
      ${this._delete.render({ error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>` })}
      <div><button class="danger" type="submit" ?disabled=${deleting}>Delete my account</button></div>
    </form>`
  }

  override render() {
    const me = this._me
    return html`
      <h1>Profile</h1>
      ${
        me === null
          ? nothing
          : html`<p>Signed in as <strong>${me.email}</strong>, member since ${day(me.created_at)}.</p>`
      }
      <section class="card">${this._passwordForm()}</section>
      <section class="card">${this._deleteForm()}</section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-profile": OrwProfile
  }
}
