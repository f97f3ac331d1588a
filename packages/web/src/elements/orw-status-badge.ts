import type { KeyStatus } from "@orw/domain/Rpc"
import { css, html, LitElement } from "lit"
import { customElement, property } from "lit/decorators.js"

const TEXT: Record<KeyStatus, string> = {
  active: "Active",
  failing: "Failing",
  invalid: "Invalid",
  inactive: "Inactive",
  "limit reached": "Limit reached"
}

/** A key's health as a coloured badge (the word carries the meaning, the colour only repeats it). */
@customElement("orw-status-badge")
export class OrwStatusBadge extends LitElement {
  static override styles = css`
    span {
      display: inline-block;
      padding: 0.1rem 0.5rem;
      border-radius: 999px;
      font-size: 0.8rem;
      font-weight: 600;
      /* One word, kept whole however narrow its column. */
      white-space: nowrap;
    }
    .active {
      color: var(--ok);
      background: var(--ok-bg);
    }
    .failing {
      color: var(--warn);
      background: var(--warn-bg);
    }
    .invalid {
      color: var(--bad);
      background: var(--bad-bg);
    }
    .limit-reached {
      color: var(--bad);
      background: var(--warn-bg);
    }
    .inactive {
      color: var(--muted);
      background: var(--line);
    }
  `

  /** The key's status. */
  @property() accessor status: KeyStatus = "active"

  override render() {
    return html`<span class=${this.status.replace(" ", "-")}>${TEXT[this.status]}</span>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-status-badge": OrwStatusBadge
  }
}
