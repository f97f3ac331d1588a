import { html, LitElement } from "lit"
import { customElement } from "lit/decorators.js"
import { shared } from "../styles.js"

/** The app's own page for a path it does not know (a mistyped or stale link), instead of the server's raw JSON. */
@customElement("orw-not-found")
export class OrwNotFound extends LitElement {
  static override styles = [shared]

  override render() {
    return html`<section class="card narrow" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>There is no page at <code>${window.location.pathname}</code>.</p>
      <p><a href="/dashboard">Go to the dashboard</a> · <a href="/docs" rel="external">API documentation</a></p>
    </section>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-not-found": OrwNotFound
  }
}
