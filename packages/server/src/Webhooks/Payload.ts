import * as NodeCrypto from "node:crypto"
import type { WebhookFormat } from "@orw/domain"

/** The alert row as deliveries carry it (money in USD), with the key's name. */
export interface AlertData {
  readonly id: string
  readonly kind: "threshold" | "spike" | "forecast"
  readonly budget_id: string | null
  readonly key_id: string | null
  readonly threshold: number | null
  readonly amount: number
  readonly spent: number
  readonly period: string
  readonly period_start: string
  readonly fired_at: string
  readonly key_name: string | null
}

export type DeliveryType = "alert.threshold" | "alert.spike" | "alert.forecast" | "test"

/** One webhook message before formatting. */
export interface Message {
  readonly deliveryId: string
  readonly type: DeliveryType
  readonly createdAt: string
  readonly data: AlertData | { readonly message: string }
}

const usd = (n: number) => `$${n.toFixed(2)}`

/** One line a person reads: what fired, for what, and how far. */
export const summary = (m: Message): string => {
  if (!("kind" in m.data)) return `openrouter-watcher: ${m.data.message}`
  const d = m.data
  const what = d.key_name === null ? "your account" : `key "${d.key_name}"`
  switch (d.kind) {
    case "threshold":
      return `Budget alert: ${what} reached ${d.threshold}% of its ${d.period} budget (${usd(d.spent)} of ${usd(d.amount)})`
    case "forecast":
      return `Budget forecast: ${what} is on course to exceed its ${d.period} budget of ${usd(d.amount)} (${usd(d.spent)} spent so far)`
    case "spike":
      return `Spend spike: ${what} spent ${usd(d.spent)} today, more than ${usd(d.amount)} (its usual rate × the spike factor)`
  }
}

/**
 * The exact body of a delivery, in the webhook's format: generic `{id, type, created_at, data}`;
 * Slack's incoming-webhook `{text, blocks}`; Discord's execute-webhook `{content, embeds}`.
 */
export const bodyOf = (format: WebhookFormat, m: Message): string => {
  const text = summary(m)
  switch (format) {
    case "generic":
      return JSON.stringify({ id: m.deliveryId, type: m.type, created_at: m.createdAt, data: m.data })
    case "slack":
      return JSON.stringify({
        text,
        blocks: [
          { type: "section", text: { type: "mrkdwn", text } },
          {
            type: "context",
            elements: [{ type: "mrkdwn", text: `${m.type} · delivery ${m.deliveryId} · ${m.createdAt}` }]
          }
        ]
      })
    case "discord":
      return JSON.stringify({
        content: text,
        embeds: [
          {
            title: m.type === "test" ? "Test delivery" : "Budget alert",
            description: text,
            color: m.type === "alert.threshold" ? 0xd9534f : 0xf0ad4e,
            timestamp: m.createdAt,
            footer: { text: `delivery ${m.deliveryId}` },
            fields:
              "kind" in m.data
                ? [
                    { name: "Spent", value: usd(m.data.spent), inline: true },
                    { name: "Amount", value: usd(m.data.amount), inline: true },
                    { name: "Period", value: `${m.data.period} from ${m.data.period_start}`, inline: true }
                  ]
                : []
          }
        ]
      })
  }
}

/** `X-Orw-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export const signature = (secret: string, unixSeconds: number, body: string): string =>
  `t=${unixSeconds},v1=${NodeCrypto.createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex")}`

/** Checks a signature header the way a receiver should (constant time; `toleranceSeconds` against replays). */
export const verifySignature = (
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300
): boolean => {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]))
  const t = Number(parts.t)
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || parts.v1 === undefined) return false
  const expected = Buffer.from(signature(secret, t, body).split("v1=")[1] ?? "", "hex")
  const given = Buffer.from(parts.v1, "hex")
  return expected.length === given.length && NodeCrypto.timingSafeEqual(expected, given)
}

/** The same alert to the same webhook is always the same delivery (a replayed outbox inserts nothing new). */
export const deliveryIdOf = (alertId: string, webhookId: string): string =>
  `dl_${NodeCrypto.createHash("sha256").update(`${alertId}|${webhookId}`).digest("hex").slice(0, 32)}`
