import { TaskStatus } from "@lit/task"
import { html, LitElement } from "lit"
import { customElement, state } from "lit/decorators.js"
import { register } from "../auth.js"
import { EffectTask, errorMessage } from "../controllers/effect-task.js"
import { navigate } from "../navigation.js"
import { shared } from "../styles.js"
import "./orw-password-rules.js"

/** Account creation: shows the password rules as they are met and the server's refusals, then goes to sign-in. */
@customElement("orw-register")
export class OrwRegister extends LitElement {
  static override styles = [shared]

  @state() accessor _password = ""

  private readonly _register = new EffectTask(this, {
    autoRun: false,
    effect: ([email, password, confirm]: readonly [string, string, string]) => register(email, password, confirm),
    onComplete: () => navigate("/login?registered=1")
  })

  private readonly _onInput = (event: InputEvent): void => {
    this._password = (event.target as HTMLInputElement).value
  }

  private readonly _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    const data = new FormData(event.currentTarget as HTMLFormElement)
    const field = (name: string) => String(data.get(name) ?? "")
    void this._register.run([field("email").trim(), field("password"), field("password_confirm")])
  }

  override render() {
    const pending = this._register.status === TaskStatus.PENDING
    return html`
      <section class="card narrow" aria-labelledby="register-title">
        <h1 id="register-title">Create an account</h1>
        <form @submit=${this._onSubmit}>
          <label>Email <input name="email" type="email" autocomplete="email" required autofocus /></label>
          <label>
            Password
            <input
              name="password"
              type="password"
              autocomplete="new-password"
              aria-describedby="rules"
              required
              @input=${this._onInput}
            />
          </label>
          <orw-password-rules id="rules" .password=${this._password}></orw-password-rules>
          <label>
            Confirm password <input name="password_confirm" type="password" autocomplete="new-password" required />
          </label>
          ${this._register.render({ error: (error) => html`<p class="error" role="alert">${errorMessage(error)}</p>` })}
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
