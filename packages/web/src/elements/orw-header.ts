import { css, html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"

/** Fired when the user asks to sign out. */
export const SIGN_OUT_EVENT = "orw-sign-out"

const PAGES = [
  { path: "/dashboard", label: "Dashboard" },
  { path: "/keys", label: "Keys" },
  { path: "/alerts", label: "Alerts" },
  { path: "/webhooks", label: "Webhooks" },
  { path: "/tokens", label: "API tokens" },
  { path: "/profile", label: "Profile" }
] as const

/** The top bar: the product's name, and for a signed-in user the pages, who they are and "Sign out". */
@customElement("orw-header")
export class OrwHeader extends LitElement {
  static override styles = css`
    header {
      display: flex;
      align-items: center;
      gap: 1.5rem;
      flex-wrap: wrap;
      padding: 0.75rem 1.5rem;
      background: var(--card);
      border-bottom: 1px solid var(--line);
    }
    .brand {
      font-weight: 700;
      color: var(--fg);
      text-decoration: none;
    }
    nav {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 1rem;
      flex: 1;
    }
    nav a {
      color: var(--muted);
      text-decoration: none;
      padding: 0.25rem 0;
      border-bottom: 2px solid transparent;
    }
    nav a[aria-current="page"] {
      color: var(--fg);
      border-bottom-color: var(--accent);
    }
    .who {
      color: var(--muted);
      font-size: 0.9rem;
      overflow-wrap: anywhere;
    }
    /* A phone: the name and "Sign out" on the first line, the pages on a line of their own below. */
    @media (max-width: 720px) {
      header {
        gap: 0.5rem 1rem;
        padding: 0.75rem;
      }
      .brand {
        flex: 1;
      }
      nav {
        order: 3;
        flex-basis: 100%;
      }
      .who {
        display: none;
      }
    }
    button {
      font: inherit;
      cursor: pointer;
      padding: 0.35rem 0.8rem;
      border-radius: 6px;
      border: 1px solid var(--line-strong);
      background: var(--card);
      color: var(--fg);
    }
    :is(a, button):focus-visible {
      outline: 3px solid var(--focus);
      outline-offset: 2px;
    }
  `

  /** The signed-in user's email; empty when nobody is signed in (no navigation then). */
  @property() accessor email = ""
  /** The current path, to mark the current page. */
  @property() accessor path = ""

  private readonly _signOut = (): void => {
    this.dispatchEvent(new Event(SIGN_OUT_EVENT, { bubbles: true, composed: true }))
  }

  override render() {
    const signedIn = this.email !== ""
    return html`<header>
      <a class="brand" href=${signedIn ? "/dashboard" : "/login"}>OpenRouter Watcher</a>
      ${
        signedIn
          ? html`<nav aria-label="Main">
                ${PAGES.map((page) => {
                  const current = page.path === this.path ? "page" : "false"
                  return html`<a href=${page.path} aria-current=${current}>${page.label}</a>`
                })}
              </nav>
              <span class="who">${this.email}</span>
              <button type="button" @click=${this._signOut}>Sign out</button>`
          : nothing
      }
    </header>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-header": OrwHeader
  }
}
