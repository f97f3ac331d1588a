import { TaskStatus } from "@lit/task"
import type { DeliveryList } from "@orw/domain/Rpc"
import { css, html, LitElement } from "lit"
import { customElement, property, state } from "lit/decorators.js"
import { IntervalController } from "../controllers/interval-controller.js"
import { errorMessage, ServerTask } from "../controllers/server-task.js"
import { dateTime } from "../format.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"

/** While a delivery is pending, its list is read again this often. */
export const DELIVERIES_POLL_MS = 2_000

/** A webhook's latest deliveries: status, attempts, the receiver's last status code and error. */
@customElement("orw-webhook-deliveries")
export class OrwWebhookDeliveries extends LitElement {
  static override styles = [
    shared,
    css`
      .scroll {
        overflow-x: auto;
      }
      td.error-text {
        word-break: break-word;
        min-width: 8rem;
      }
      .delivered {
        color: var(--ok);
      }
      .failed {
        color: var(--bad);
      }
      .pending {
        color: var(--warn);
      }
    `
  ]

  /** The webhook whose deliveries are shown. */
  @property({ attribute: "webhook-id" }) accessor webhookId = ""
  /** Where the list is, for its caption (the webhook's URL). */
  @property() accessor url = ""
  /** Bumped by the page to read the list again (after a test was queued). */
  @property({ type: Number }) accessor refresh = 0

  @state() accessor _tick = 0

  constructor() {
    super()
    // Polls only while something is pending: a delivered or failed delivery does not change again.
    new IntervalController(this, DELIVERIES_POLL_MS, () => {
      if (this._pending(this._deliveries.value)) this._tick++
    })
  }

  private readonly _deliveries = new ServerTask(this, {
    args: () => [this.webhookId, this.refresh, this._tick] as const,
    task: ([id], signal) => rpc.listDeliveries({ webhook_id: id }, signal)
  })

  private _pending(list: DeliveryList | undefined): boolean {
    return list?.items.some((d) => d.status === "pending") ?? false
  }

  override render() {
    const list = this._deliveries.value
    const failed = this._deliveries.status === TaskStatus.ERROR
    if (failed) return html`<p class="error" role="alert">${errorMessage(this._deliveries.error)}</p>`
    if (list === undefined) return html`<p class="muted">Loading deliveries…</p>`
    if (list.items.length === 0) return html`<p class="muted">No deliveries yet.</p>`
    return html`<div class="scroll"><table>
      <caption class="sr-only">Deliveries to ${this.url}</caption>
      <thead><tr><th scope="col">Created (UTC)</th><th scope="col">Event</th><th scope="col">Status</th>
        <th scope="col" class="num">Attempts</th><th scope="col" class="num">Last status</th>
        <th scope="col">Last error</th><th scope="col">Delivered or next try (UTC)</th></tr></thead>
      <tbody>${list.items.map(
        (d) => html`<tr>
          <td>${dateTime(d.created_at)}</td>
          <td>${d.type}</td>
          <td class=${d.status}>${d.status}</td>
          <td class="num">${d.attempts}</td>
          <td class="num">${d.last_status_code ?? "–"}</td>
          <td class="error-text">${d.last_error ?? "–"}</td>
          <td>${d.status === "delivered" ? dateTime(d.delivered_at) : d.status === "pending" ? dateTime(d.next_attempt_at, "soon") : "gave up"}</td>
        </tr>`
      )}</tbody>
    </table></div>`
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-webhook-deliveries": OrwWebhookDeliveries
  }
}
