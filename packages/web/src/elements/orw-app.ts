import { provide } from "@lit/context"
import { Router } from "@lit-labs/router"
import type { UserResponse } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, state } from "lit/decorators.js"
import { logout } from "../auth.js"
import { sessionContext } from "../contexts/session-context.js"
import { markOffline, markSettled, type Waiting } from "../controllers/retry.js"
import { CONNECTIVITY_EVENT, type Connectivity, UNAUTHENTICATED_EVENT } from "../controllers/server-task.js"
import { ACCOUNT_DELETED_EVENT, type LoginNotice, navigate, SIGNED_IN_EVENT } from "../navigation.js"
import { rpc } from "../rpc-client.js"
import "./orw-dashboard.js"
import "./orw-footer.js"
import { SIGN_OUT_EVENT } from "./orw-header.js"
import "./orw-login.js"
import "./orw-not-found.js"
import "./orw-register.js"

/**
 * The application shell: provides the session to every page, routes
 * between them, and sends anyone without a session to /login.
 */
@customElement("orw-app")
export class OrwApp extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-height: 100vh;
    }
    main {
      max-width: 1200px;
      margin: 0 auto;
      padding: 1.5rem;
      outline: none;
    }
    @media (max-width: 600px) {
      main {
        padding: 1rem 0.75rem;
      }
    }
    .offline {
      max-width: 1200px;
      margin: 1rem auto 0;
      box-sizing: border-box;
      padding: 0.5rem 0.75rem;
      border-radius: 6px;
      color: var(--fg);
      background: var(--warn-bg);
      border: 1px solid var(--warn);
    }
  `

  @provide({ context: sessionContext })
  @state()
  accessor _me: UserResponse | null = null

  /** Reads waiting for an unreachable server; while there is one, "offline, retrying" shows above the page. */
  @state() accessor _waiting: Waiting = new Set()

  /** Who is signed in, asked once per page load and after each sign-in. */
  private _session: Promise<UserResponse | null> = Promise.resolve(null)
  private _path = ""

  private readonly _router = new Router(
    this,
    [
      { path: "/", enter: () => this._redirect() },
      { path: "/login", enter: () => this._guest(), render: () => html`<orw-login></orw-login>` },
      { path: "/register", enter: () => this._guest(), render: () => html`<orw-register></orw-register>` },
      { path: "/dashboard", enter: () => this._member(), render: () => html`<orw-dashboard></orw-dashboard>` },
      // The other pages are chunks of their own, loaded on the first visit (the explorer with its filters and table).
      {
        path: "/usage",
        enter: this._page(() => import("./orw-usage.js")),
        render: () => html`<orw-usage></orw-usage>`
      },
      { path: "/keys", enter: this._page(() => import("./orw-keys.js")), render: () => html`<orw-keys></orw-keys>` },
      {
        path: "/alerts",
        enter: this._page(() => import("./orw-alerts.js")),
        render: () => html`<orw-alerts></orw-alerts>`
      },
      {
        path: "/webhooks",
        enter: this._page(() => import("./orw-webhooks.js")),
        render: () => html`<orw-webhooks></orw-webhooks>`
      },
      {
        path: "/tokens",
        enter: this._page(() => import("./orw-tokens.js")),
        render: () => html`<orw-tokens></orw-tokens>`
      },
      {
        path: "/profile",
        enter: this._page(() => import("./orw-profile.js")),
        render: () => html`<orw-profile></orw-profile>`
      }
    ],
    { fallback: { render: () => html`<orw-not-found></orw-not-found>` } }
  )

  override connectedCallback(): void {
    // Before the router's first navigation (in super.connectedCallback), whose guards wait for it.
    this._session = this._loadSession()
    super.connectedCallback()
    this.addEventListener(UNAUTHENTICATED_EVENT, this._onUnauthenticated)
    this.addEventListener(SIGNED_IN_EVENT, this._onSignedIn)
    this.addEventListener(SIGN_OUT_EVENT, this._signOut)
    this.addEventListener(ACCOUNT_DELETED_EVENT, this._onDeleted)
    window.addEventListener(CONNECTIVITY_EVENT, this._onConnectivity)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.removeEventListener(UNAUTHENTICATED_EVENT, this._onUnauthenticated)
    this.removeEventListener(SIGNED_IN_EVENT, this._onSignedIn)
    this.removeEventListener(SIGN_OUT_EVENT, this._signOut)
    this.removeEventListener(ACCOUNT_DELETED_EVENT, this._onDeleted)
    window.removeEventListener(CONNECTIVITY_EVENT, this._onConnectivity)
  }

  private readonly _onConnectivity = (event: Event): void => {
    const { id, offline } = (event as CustomEvent<Connectivity>).detail
    this._waiting = offline ? markOffline(this._waiting, id) : markSettled(this._waiting, id)
  }

  private _loadSession(): Promise<UserResponse | null> {
    // A refusal or no answer is "signed out"; a defect the server sent is not (as `Effect.orElseSucceed`).
    return rpc
      .me()
      .catch((error: unknown) => {
        if (typeof error === "object" && error !== null && "_tag" in error) return null
        throw error
      })
      .then((me) => (this._me = me))
  }

  private async _redirect(): Promise<boolean> {
    navigate((await this._session) === null ? "/login" : "/dashboard", { replace: true })
    return false
  }

  private async _guest(): Promise<boolean> {
    if ((await this._session) === null) return true
    navigate("/dashboard", { replace: true })
    return false
  }

  /** The guard of a member's page whose element is loaded with `load` once the session is known to be there. */
  private _page(load: () => Promise<unknown>): () => Promise<boolean> {
    return async () => {
      if (!(await this._member())) return false
      await load()
      return true
    }
  }

  private async _member(): Promise<boolean> {
    if ((await this._session) !== null) return true
    navigate("/login", { replace: true })
    return false
  }

  /** Back to sign-in, saying why (`notice`): the session ended, the user signed out, or deleted the account. */
  private _leave(notice: LoginNotice): void {
    this._me = null
    this._session = Promise.resolve(null)
    navigate(`/login?${notice}=1`)
  }

  private readonly _onUnauthenticated = (): void => this._leave("expired")

  private readonly _onDeleted = (): void => this._leave("deleted")

  private readonly _onSignedIn = (): void => {
    this._session = this._loadSession()
    void this._session.then((me) => navigate(me === null ? "/login" : "/dashboard"))
  }

  private readonly _signOut = async (): Promise<void> => {
    await logout().catch(() => undefined)
    this._leave("signed-out")
  }

  protected override updated(): void {
    // Move focus to the new page, so keyboard and screen-reader users start at its top.
    const path = window.location.pathname
    if (this._path !== "" && this._path !== path) this.renderRoot.querySelector("main")?.focus()
    this._path = path
  }

  override render() {
    return html`
      <orw-header email=${this._me?.email ?? ""} path=${window.location.pathname}></orw-header>
      ${
        this._waiting.size === 0
          ? nothing
          : html`<p class="offline" role="status">
              <strong>Offline, retrying…</strong> The server cannot be reached; the figures shown are the last ones
              loaded and refresh as soon as it answers again.
            </p>`
      }
      <main tabindex="-1">${this._router.outlet()}</main>
      <orw-footer></orw-footer>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-app": OrwApp
  }
}
