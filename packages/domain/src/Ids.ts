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
