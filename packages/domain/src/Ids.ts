import { Schema } from "effect"

/** Opaque id of a user; clients never parse it. */
export const UserId = Schema.String.pipe(Schema.minLength(1), Schema.brand("UserId"))
export type UserId = typeof UserId.Type

/** Opaque id of a stored OpenRouter key. */
export const ApiKeyId = Schema.String.pipe(Schema.minLength(1), Schema.brand("ApiKeyId"))
export type ApiKeyId = typeof ApiKeyId.Type

/** Opaque id of a public-API token. */
export const ApiTokenId = Schema.String.pipe(Schema.minLength(1), Schema.brand("ApiTokenId"))
export type ApiTokenId = typeof ApiTokenId.Type

/** A UTC calendar day, `YYYY-MM-DD`, with a calendar check. */
export { UtcDate } from "./Dates.js"

/** Opaque id of a budget. */
export const BudgetId = Schema.String.pipe(Schema.minLength(1), Schema.brand("BudgetId"))
export type BudgetId = typeof BudgetId.Type

/** Opaque id of an alert; the same (budget, threshold, period) always gets the same id. */
export const AlertId = Schema.String.pipe(Schema.minLength(1), Schema.brand("AlertId"))
export type AlertId = typeof AlertId.Type

/** Opaque id of a webhook endpoint. */
export const WebhookId = Schema.String.pipe(Schema.minLength(1), Schema.brand("WebhookId"))
export type WebhookId = typeof WebhookId.Type
