import { TaskStatus } from "@lit/task"
import { html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { register } from "../auth.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { navigate } from "../navigation.js"
import { isSendable, type RegistrationProblems, registrationProblems } from "../registration.js"
import { shared } from "../styles.js"
import "./orw-password-rules.js"

/**
 * Account creation: shows the password rules as they are met, checks every rule the server applies before
 * sending (the auth rate limit allows few attempts a minute, none of which should go to a refusal the page
 * could foresee), shows the server's refusals, then goes to sign-in.
 */
@customElement("orw-register")
export class OrwRegister extends LitElement {
  static override styles = [shared]

  @state() accessor _password = ""
  /** What the last submit found wrong, per field; shown until the next submit. */
  @state() accessor _problems: RegistrationProblems = {}

  private readonly _register = new ServerTask(this, {
    autoRun: false,
    task: ([email, password, confirm]: readonly [string, string, string]) => register(email, password, confirm),
    onComplete: () => navigate("/login?registered=1")
  })

  private readonly _onInput = (event: InputEvent): void => {
    this._password = (event.target as HTMLInputElement).value
  }

  private readonly _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    const data = new FormData(event.currentTarget as HTMLFormElement)
    const field = (name: string) => String(data.get(name) ?? "")
    const [email, password, confirm] = [field("email").trim(), field("password"), field("password_confirm")]
    this._problems = registrationProblems(email, password, confirm)
    if (!isSendable(this._problems)) {
      // Nothing is sent: start at the first field to fix (the server's last answer stays hidden meanwhile).
      const first =
        this._problems.email !== undefined
          ? "email"
          : this._problems.password !== undefined
            ? "password"
            : "password_confirm"
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`[name=${first}]`)?.focus())
      return
    }
    void this._register.run([email, password, confirm])
  }

  override render() {
    const pending = this._register.status === TaskStatus.PENDING
    const problems = this._problems
    const sendable = isSendable(problems)
    const invalid = (problem: unknown) => (problem === undefined ? "false" : "true")
    return html`
      <section class="card narrow" aria-labelledby="register-title">
        <h1 id="register-title">Create an account</h1>
        <form @submit=${this._onSubmit} novalidate>
          <label>
            Email
            <input name="email" type="email" autocomplete="email" required autofocus
              aria-invalid=${invalid(problems.email)} aria-describedby="email-problem" />
          </label>
          ${problems.email === undefined ? nothing : html`<p class="error" id="email-problem">${problems.email}</p>`}
          <label>
            Password
            <input
              name="password"
              type="password"
              autocomplete="new-password"
              aria-describedby="rules password-problem"
              aria-invalid=${invalid(problems.password)}
              required
              @input=${this._onInput}
            />
          </label>
          <orw-password-rules id="rules" .password=${this._password}></orw-password-rules>
          ${
            problems.password === undefined
              ? nothing
              : html`<p class="error" id="password-problem">${problems.password.join("; ")}</p>`
          }
          <label>
            Confirm password
            <input name="password_confirm" type="password" autocomplete="new-password" required
              aria-invalid=${invalid(problems.confirm)} aria-describedby="confirm-problem" />
          </label>
          ${problems.confirm === undefined ? nothing : html`<p class="error" id="confirm-problem">${problems.confirm}</p>`}
          ${sendable ? nothing : html`<p class="sr-only" role="alert">Please fix the fields marked above.</p>`}
          ${
            sendable
              ? this._register.render({
                  error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>`
                })
              : nothing
          }
          <div class="row">
            <button class="primary" type="submit" ?disabled=${pending}>
              ${pending ? "Creating…" : "Create account"}
            </button>
            <span class="muted">Already registered? <a href="/login">Sign in</a></span>
          </div>
        </form>
      </section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-register": OrwRegister
  }
}
