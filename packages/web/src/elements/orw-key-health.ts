import type { KeyRow, KeyStatus } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing } from "lit"
import { customElement, property } from "lit/decorators.js"
import { NEAR_LIMIT, remainingShare, usd } from "../format.js"
import { shared } from "../styles.js"
import "./orw-status-badge.js"

const ORDER: ReadonlyArray<KeyStatus> = ["active", "limit reached", "failing", "invalid", "inactive"]

/** How the user's keys are doing: how many per health status, and which keys are close to their limit. */
@customElement("orw-key-health")
export class OrwKeyHealth extends LitElement {
  static override styles = [
    shared,
    css`
      .counts {
        display: flex;
        gap: 1rem;
        flex-wrap: wrap;
        margin-bottom: 0.75rem;
      }
      li.near {
        color: var(--warn);
      }
    `
  ]

  /** The keys, as `listKeys` returns them. */
  @property({ attribute: false }) accessor keys: ReadonlyArray<KeyRow> = []

  override render() {
    const near = this.keys.filter((key) => {
      const share = remainingShare(key)
      return share !== null && share < NEAR_LIMIT
    })
    const problems = this.keys.filter((key) => key.status === "invalid" || key.status === "failing")
    return html`
      <div class="counts" role="list" aria-label="Keys by status">
        ${ORDER.map((status) => {
          const n = this.keys.filter((key) => key.status === status).length
          return n === 0
            ? nothing
            : html`<span role="listitem"><orw-status-badge status=${status}></orw-status-badge> ${n}</span>`
        })}
        ${this.keys.length === 0 ? html`<span class="muted">No keys yet: <a href="/keys">add one</a>.</span>` : nothing}
      </div>
      ${
        near.length === 0
          ? nothing
          : html`<p><strong>Near their limit</strong> (under ${NEAR_LIMIT * 100}% left):</p>
              <ul>
                ${near.map((key) => {
                  const reset = key.limit_reset === null ? "never resets" : `resets ${key.limit_reset}`
                  const left =
                    key.limit_remaining === 0
                      ? `limit of ${usd(key.limit ?? 0)} reached (${reset})`
                      : `${usd(key.limit_remaining ?? 0)} of ${usd(key.limit ?? 0)} left (${reset})`
                  return html`<li class="near">${key.name}: ${left}</li>`
                })}
              </ul>`
      }
      ${
        problems.length === 0
          ? nothing
          : html`<ul>
              ${problems.map((key) => html`<li>${key.name}: ${key.last_error ?? key.status}</li>`)}
            </ul>`
      }
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-key-health": OrwKeyHealth
  }
}
