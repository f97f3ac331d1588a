import { TaskStatus } from "@lit/task"
import type { CreatedWebhook, WebhookList } from "@orw/domain/Rpc"
import { css, html, LitElement, nothing, type PropertyValues } from "lit"
import { customElement, state } from "lit/decorators.js"
import { type Action, errorMessage, ServerTask } from "../controllers/server-task.js"
import { day } from "../format.js"
import { rpc } from "../rpc-client.js"
import { shared } from "../styles.js"
import "./orw-webhook-deliveries.js"
import { copyShownSecret } from "../clipboard.js"

type Webhook = WebhookList["items"][number]

const FORMATS = [
  { value: "generic", label: "Generic JSON" },
  { value: "slack", label: "Slack" },
  { value: "discord", label: "Discord" }
] as const

/**
 * Webhooks that receive the alerts: add one (its signing secret is shown once), send a signed test,
 * see each one's deliveries and their errors, delete one (after a confirmation).
 */
@customElement("orw-webhooks")
export class OrwWebhooks extends LitElement {
  static override styles = [
    shared,
    css`
      code.secret {
        display: block;
        word-break: break-all;
        padding: 0.5rem;
        margin: 0.5rem 0;
        background: var(--bg);
        border: 1px dashed var(--line-strong);
        border-radius: 6px;
      }
      select {
        font: inherit;
        padding: 0.45rem;
        border-radius: 6px;
        border: 1px solid var(--line-strong);
        background: var(--bg);
        color: var(--fg);
      }
      input[name="url"] {
        width: 100%;
        box-sizing: border-box;
        min-width: 0;
      }
      /* The two fields' boxes on one line, whatever their heights (a select is shorter than an input). */
      .fields {
        align-items: end;
      }
      .url-field {
        flex: 1 1 16rem;
        min-width: 0;
      }
      article {
        border-top: 1px solid var(--line);
        padding: 0.75rem 0;
      }
      h3 {
        font-size: 1rem;
        margin: 0 0 0.25rem;
        word-break: break-all;
      }
    `
  ]

  /** The webhook just added: its secret stays on screen until dismissed or the page is left. */
  @state() accessor _created: CreatedWebhook | null = null
  @state() accessor _copied = false
  @state() accessor _deleting = ""
  /** What the last action did; cleared when the next one starts. */
  @state() accessor _done = ""
  /** Per webhook, bumped after a test so its deliveries are read again. */
  @state() accessor _refresh: Readonly<Record<string, number>> = {}
  /** Which of the two actions ran last: only its refusal is shown. */
  @state() accessor _last: "create" | "action" = "action"

  private readonly _hooks = new ServerTask(this, {
    args: () => [] as const,
    task: (_, signal) => rpc.listWebhooks(undefined, signal)
  })

  private readonly _create = new ServerTask(this, {
    autoRun: false,
    task: ([url, format]: readonly [string, "generic" | "slack" | "discord"], signal) =>
      rpc.createWebhook({ url, format }, signal),
    onComplete: (created) => {
      this._created = created
      this._copied = false
      this.renderRoot.querySelector<HTMLFormElement>("form")?.reset()
      void this._hooks.run()
    }
  })

  private readonly _action = new ServerTask(this, {
    autoRun: false,
    task: ([action]: readonly [Action<string>], signal) => action(signal),
    onComplete: (sentence) => {
      this._done = sentence
      this._deleting = ""
    }
  })

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("_deleting") && this._deleting !== "")
      this.renderRoot.querySelector<HTMLElement>(".confirm button")?.focus()
  }

  private _start(last: "create" | "action"): void {
    this._done = ""
    this._created = null
    this._last = last
  }

  private readonly _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault()
    const data = new FormData(event.currentTarget as HTMLFormElement)
    const url = String(data.get("url") ?? "").trim()
    const format = FORMATS.find((f) => f.value === data.get("format"))?.value ?? "generic"
    this._start("create")
    void this._create.run([url, format])
  }

  private _do(action: Action<string>): void {
    this._start("action")
    void this._action.run([action])
  }

  private _test(hook: Webhook): void {
    this._do((signal) =>
      rpc.testWebhook({ webhook_id: hook.id }, signal).then(() => {
        this._refresh = { ...this._refresh, [hook.id]: (this._refresh[hook.id] ?? 0) + 1 }
        return `Test queued for ${hook.url}: its delivery shows below.`
      })
    )
  }

  private _delete(hook: Webhook): void {
    this._do((signal) =>
      rpc.deleteWebhook({ webhook_id: hook.id }, signal).then(() => {
        void this._hooks.run()
        return `Deleted the webhook ${hook.url}; its secret is destroyed.`
      })
    )
  }

  private readonly _copy = async (): Promise<void> => {
    if (this._created === null) return
    if (await copyShownSecret(this._created.secret, this.renderRoot.querySelector("#new-secret"))) this._copied = true
  }

  private _shownOnce(created: CreatedWebhook) {
    return html`<div class="notice" role="status">
      <strong>Webhook added.</strong> Copy its signing secret now: it will not be shown again. Receivers check
      <code>X-Orw-Signature</code> (HMAC-SHA256 of <code>&lt;t&gt;.&lt;body&gt;</code>) with it.
      <code class="secret" id="new-secret">${created.secret}</code>
      <div class="row">
        <button type="button" class="primary" @click=${this._copy}>${this._copied ? "Copied" : "Copy secret"}</button>
        <button type="button" @click=${() => (this._created = null)}>Done</button>
      </div>
    </div>`
  }

  private _hook(hook: Webhook, busy: boolean) {
    const actions =
      this._deleting === hook.id
        ? html`<div class="row confirm" role="group" aria-label="Confirm deletion of the webhook ${hook.url}">
            <span>Delete this webhook? Its secret is destroyed and nothing more is sent to it.</span>
            <button type="button" class="danger" ?disabled=${busy} @click=${() => this._delete(hook)}>Yes, delete</button>
            <button type="button" @click=${() => (this._deleting = "")}>Cancel</button>
          </div>`
        : html`<div class="row">
            <button type="button" aria-label="Send test to ${hook.url}" ?disabled=${busy} @click=${() => this._test(hook)}>
              Send test
            </button>
            <button type="button" class="danger" aria-label="Delete the webhook ${hook.url}"
              @click=${() => {
                this._done = ""
                this._deleting = hook.id
              }}>Delete</button>
          </div>`
    return html`<article aria-label="Webhook ${hook.url}">
      <h3>${hook.url}</h3>
      <p class="hint">${FORMATS.find((f) => f.value === hook.format)?.label ?? hook.format} · added ${day(hook.created_at)}</p>
      ${actions}
      <orw-webhook-deliveries webhook-id=${hook.id} url=${hook.url} refresh=${this._refresh[hook.id] ?? 0}></orw-webhook-deliveries>
    </article>`
  }

  override render() {
    const hooks = this._hooks.value?.items
    const busy = this._action.status === TaskStatus.PENDING || this._create.status === TaskStatus.PENDING
    const last = this._last === "create" ? this._create : this._action
    const error = [last, this._hooks].find((task) => task.status === TaskStatus.ERROR)?.error
    return html`
      <h1>Webhooks</h1>
      <section class="card">
        <form @submit=${this._onSubmit} aria-labelledby="add-title">
          <h2 id="add-title">Add a webhook</h2>
          <span class="hint">Every alert is POSTed to each webhook, signed with its secret, and retried until a 2xx (up to 24 h).</span>
          <div class="row fields">
            <label class="url-field">URL <input name="url" type="url" required placeholder="https://hooks.example.com/orw" /></label>
            <label>Format
              <select name="format">${FORMATS.map((f) => html`<option value=${f.value}>${f.label}</option>`)}</select>
            </label>
          </div>
          <div><button class="primary" type="submit" ?disabled=${busy}>Add webhook</button></div>
        </form>
        ${this._created === null ? nothing : this._shownOnce(this._created)}
      </section>
      <p class=${this._done === "" ? "" : "notice"} role="status">${this._done}</p>
      ${error === undefined ? nothing : html`<p class="error" role="alert">${errorMessage(error)}</p>`}
      <section class="card" aria-labelledby="hooks-title">
        <h2 id="hooks-title">Your webhooks</h2>
        ${
          hooks === undefined || hooks.length === 0
            ? html`<p class="muted">${hooks === undefined ? "Loading…" : "No webhooks yet."}</p>`
            : hooks.map((hook) => this._hook(hook, busy))
        }
      </section>
    `
  }
}

declare global {
  interface HTMLElementTagNameMap {
    "orw-webhooks": OrwWebhooks
  }
}
