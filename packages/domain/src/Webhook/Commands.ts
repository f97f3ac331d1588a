import { Schema } from "effect"
import { UserId, WebhookId } from "../Ids.js"
import { WebhookFormat } from "./Events.js"

/** `allowPrivate`: whether loopback and private hosts are accepted (not in production, unless WEBHOOK_ALLOW_PRIVATE). */
export class AddWebhook extends Schema.TaggedClass<AddWebhook>()("AddWebhook", {
  webhookId: WebhookId,
  userId: UserId,
  url: Schema.String,
  format: WebhookFormat,
  ciphertext: Schema.String,
  allowPrivate: Schema.Boolean,
  at: Schema.DateTimeUtc
}) {}

export class DeleteWebhook extends Schema.TaggedClass<DeleteWebhook>()("DeleteWebhook", {
  webhookId: WebhookId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export const WebhookCommand = Schema.Union(AddWebhook, DeleteWebhook)
export type WebhookCommand = typeof WebhookCommand.Type
