import { VERSION } from "@orw/domain/Version"
import { css, html, LitElement } from "lit"
import { customElement } from "lit/decorators.js"

/** The foot of every page: the product's version (the same as `/docs` and `orw --version`) and the API docs. */
@customElement("orw-footer")
export class OrwFooter extends LitElement {
  static override styles = css`
    footer {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem 1rem;
      justify-content: center;
      padding: 1rem 1.5rem 2rem;
      color: var(--muted);
      font-size: 0.85rem;
    }
    a {
      color: inherit;
    }
    a:focus-visible {
      outline: 3px solid var(--focus);
      outline-offset: 2px;
    }
  `

  override render() {
    return html`<footer>
      <span>OpenRouter Watcher <span id="version">${VERSION}</span></span>
      <a href="/docs" rel="external">REST API documentation (/docs)</a>
    </footer>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-footer": OrwFooter
  }
}
