import { TaskStatus } from "@lit/task"
import { html, LitElement, nothing } from "lit"
import { customElement } from "lit/decorators.js"
import { login } from "../auth.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { LOGIN_NOTICES, type LoginNotice, SIGNED_IN_EVENT } from "../navigation.js"
import { shared } from "../styles.js"

/** The sign-in form; on success the server sets the session cookie and the app opens the dashboard. */
@customElement("orw-login")
export class OrwLogin extends LitElement {
  static override styles = [shared]

  private readonly _login = new ServerTask(this, {
    autoRun: false,
    task: ([email, password]: readonly [string, string]) => login(email, password),
    onComplete: () => this.dispatchEvent(new Event(SIGNED_IN_EVENT, { bubbles: true, composed: true }))
  })

  private readonly _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    const data = new FormData(event.currentTarget as HTMLFormElement)
    void this._login.run([String(data.get("email") ?? "").trim(), String(data.get("password") ?? "")])
  }

  override render() {
    const pending = this._login.status === TaskStatus.PENDING
    const query = new URLSearchParams(window.location.search)
    // The notice is about how the user got here: gone once they try to sign in.
    const notice =
      this._login.status === TaskStatus.INITIAL
        ? (Object.keys(LOGIN_NOTICES) as Array<LoginNotice>).find((key) => query.has(key))
        : undefined
    return html`
      <section class="card narrow" aria-labelledby="login-title">
        <h1 id="login-title">Sign in</h1>
        ${notice === undefined ? nothing : html`<p class="notice" role="status">${LOGIN_NOTICES[notice]}</p>`}
        <form @submit=${this._onSubmit}>
          <label>Email <input name="email" type="email" autocomplete="username" required autofocus /></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
          ${this._login.render({ error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>` })}
          <div class="row">
            <button class="primary" type="submit" ?disabled=${pending}>${pending ? "Signing in…" : "Sign in"}</button>
            <span class="muted">No account yet? <a href="/register">Create one</a></span>
          </div>
        </form>
      </section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-login": OrwLogin
  }
}
