import { PASSWORD_RULES } from "@orw/domain/User/Password"
import { css, html, LitElement } from "lit"
import { customElement, property } from "lit/decorators.js"

/** The password rules as a checklist that ticks off as `password` meets them. */
@customElement("orw-password-rules")
export class OrwPasswordRules extends LitElement {
  static override styles = css`
    ul {
      margin: 0;
      padding-left: 1.1rem;
      font-size: 0.85rem;
      color: var(--muted);
    }
    li.met {
      color: var(--ok);
    }
    li.met::marker {
      content: "✓ ";
    }
    .sr-only {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
  `

  /** The password typed so far. */
  @property() accessor password = ""

  override render() {
    return html`<ul aria-label="Password rules">
      ${PASSWORD_RULES.map((rule) => {
        const met = rule.test(this.password)
        return html`<li class=${met ? "met" : ""}>${rule.label}<span class="sr-only">${met ? " (met)" : ""}</span></li>`
      })}
    </ul>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-password-rules": OrwPasswordRules
  }
}
