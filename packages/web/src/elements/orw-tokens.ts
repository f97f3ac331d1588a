import { TaskStatus } from "@lit/task"
import type { CreatedToken, TokenRow } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { copyShownSecret } from "../clipboard.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { dateTime, day } from "../format.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"

/** Tokens for the public REST API: create one (its secret is shown once, with a copy button), list, revoke. */
@customElement("orw-tokens")
export class OrwTokens extends LitElement {
  static override styles = [
    shared,
    css`
      code {
        overflow-wrap: anywhere;
      }
      code.secret {
        display: block;
        word-break: break-all;
        padding: 0.5rem;
        margin: 0.5rem 0;
        background: var(--bg);
        border: 1px dashed var(--line-strong);
        border-radius: 6px;
      }
      tr.revoked {
        color: var(--muted);
      }
    `
  ]

  /** The token just created: its secret stays on screen until dismissed or the page is left. */
  @state() accessor _created: CreatedToken | null = null
  @state() accessor _copied = false
  /** The token whose revocation awaits a "Yes, revoke". */
  @state() accessor _confirming = ""
  /** The action started last: only its answer is shown (the previous one's no longer applies). */
  @state() accessor _last: "create" | "revoke" | null = null
  /** What the last revocation did. */
  @state() accessor _revoked = ""

  private readonly _tokens = new ServerTask(this, {
    args: () => [] as const,
    task: (_, signal) => rpc.listTokens(undefined, signal)
  })

  private readonly _create = new ServerTask(this, {
    autoRun: false,
    task: ([name]: readonly [string], signal) => rpc.createToken({ name }, signal),
    onComplete: (created) => {
      this._created = created
      this._copied = false
      this.renderRoot.querySelector("form")?.reset()
      void this._tokens.run()
    }
  })

  private readonly _revoke = new ServerTask(this, {
    autoRun: false,
    task: ([token]: readonly [TokenRow], signal) => rpc.revokeToken({ token_id: token.id }, signal).then(() => token),
    onComplete: (token) => {
      this._revoked = `Revoked ${token.name}: it no longer opens the API.`
      void this._tokens.run()
    }
  })

  /** Asks first; the keyboard lands on the answer. */
  private _confirm(token: TokenRow): void {
    this._confirming = token.id
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>('[role="group"] button.danger')?.focus()
    )
  }

  private _startRevoke(token: TokenRow): void {
    this._last = "revoke"
    this._confirming = ""
    this._revoked = ""
    void this._revoke.run([token])
  }

  private readonly _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    this._last = "create"
    this._revoked = ""
    void this._create.run([String(new FormData(event.currentTarget as HTMLFormElement).get("name") ?? "").trim()])
  }

  private readonly _copy = async (): Promise<void> => {
    if (this._created === null) return
    if (await copyShownSecret(this._created.token, this.renderRoot.querySelector("#new-token"))) this._copied = true
  }

  private _shownOnce(created: CreatedToken) {
    return html`<div class="notice" role="status">
      <strong>Token “${created.name}” created.</strong> Copy it now: it will not be shown again.
      <code class="secret" id="new-token">${created.token}</code>
      <div class="row">
        <button type="button" class="primary" @click=${this._copy}>${this._copied ? "Copied" : "Copy token"}</button>
        <button type="button" @click=${() => (this._created = null)}>Done</button>
      </div>
    </div>`
  }

  private _actions(token: TokenRow) {
    if (!token.is_active) return nothing
    if (this._confirming === token.id)
      return html`<div class="row" role="group" aria-label="Confirm revoking ${token.name}">
        <span>Revoke ${token.name}? Whatever uses it stops working at once.</span>
        <button type="button" class="danger" @click=${() => this._startRevoke(token)}>Yes, revoke</button>
        <button type="button" @click=${() => (this._confirming = "")}>Cancel</button>
      </div>`
    return html`<button type="button" class="danger" aria-label="Revoke: ${token.name}"
      ?disabled=${this._revoke.status === TaskStatus.PENDING} @click=${() => this._confirm(token)}>
      Revoke
    </button>`
  }

  private _row(token: TokenRow) {
    return html`<tr class=${token.is_active ? "" : "revoked"}>
      <th scope="row">${token.name}</th>
      <td data-label="Created">${day(token.created_at)}</td>
      <td data-label="Last used (UTC)">${dateTime(token.last_used_at)}</td>
      <td data-label="Status">${token.is_active ? "Active" : `Revoked ${day(token.revoked_at, "")}`}</td>
      <td>${this._actions(token)}</td>
    </tr>`
  }

  override render() {
    // Active tokens first; revoked ones stay listed, marked, below them.
    const tokens = [...(this._tokens.value ?? [])].sort((a, b) => Number(b.is_active) - Number(a.is_active))
    const action = this._last === "create" ? this._create : this._last === "revoke" ? this._revoke : undefined
    const error = [action, this._tokens].find((task) => task?.status === TaskStatus.ERROR)?.error
    return html`
      <h1>API tokens</h1>
      <section class="card">
        <form @submit=${this._onSubmit} aria-labelledby="create-title">
          <h2 id="create-title">Create a token</h2>
          <span class="hint">Tokens read your figures through the REST API (<code>/api/v1/*</code>, header
            <code>Authorization: Bearer or_api_…</code>); its reference is at <a href="/docs" rel="external">/docs</a>.</span>
          <div class="row">
            <label>Name <input name="name" required maxlength="100" placeholder="Grafana" /></label>
          </div>
          <div><button class="primary" type="submit">Create token</button></div>
        </form>
        ${this._created === null ? nothing : this._shownOnce(this._created)}
      </section>
      ${error === undefined ? nothing : html`<p class="error" role="alert">${errorMessage(error)}</p>`}
      <p class=${this._revoked === "" ? "" : "notice"} role="status">${this._revoked}</p>
      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Your tokens</h2>
        ${
          tokens.length === 0
            ? html`<p class="muted">${this._tokens.value === undefined ? "Loading…" : "No tokens yet."}</p>`
            : html`<table class="cards">
                <caption class="sr-only">Your API tokens</caption>
                <thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last used (UTC)</th>
                  <th scope="col">Status</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
                <tbody>${tokens.map((token) => this._row(token))}</tbody>
              </table>`
        }
      </section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-tokens": OrwTokens
  }
}
