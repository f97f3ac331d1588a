import { Schema } from "effect"
import { UserId, WebhookId } from "../Ids.js"

/** Slack's `{text, blocks}`, Discord's `{content, embeds}`, or our own JSON. */
export const WebhookFormat = Schema.Literal("generic", "slack", "discord")
export type WebhookFormat = typeof WebhookFormat.Type

/** The signing secret only as the KeyVault sealed it (its data key is shredded on delete). */
export class WebhookAdded extends Schema.TaggedClass<WebhookAdded>()("WebhookAdded", {
  webhookId: WebhookId,
  userId: UserId,
  url: Schema.String,
  format: WebhookFormat,
  ciphertext: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class WebhookDeleted extends Schema.TaggedClass<WebhookDeleted>()("WebhookDeleted", {
  webhookId: WebhookId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export const WebhookEvent = Schema.Union(WebhookAdded, WebhookDeleted)
export type WebhookEvent = typeof WebhookEvent.Type
