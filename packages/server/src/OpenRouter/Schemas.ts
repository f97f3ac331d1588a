import { type ApiKeyEvents, usdToMicros } from "@orw/domain"
import { Schema } from "effect"

/*
 * OpenRouter's responses as the sync reads them. Structs ignore unknown fields, so OpenRouter may add fields
 * freely; fields it may leave out get defaults, the ones the sync depends on are required.
 */

const Usd = Schema.Number
const defaulted = <S extends Schema.Schema.Any>(schema: S, value: () => Schema.Schema.Type<S>) =>
  Schema.optionalWith(schema, { default: value })
const zero = () => 0
const no = () => false
const none = () => null

/** `GET /key` → `data`: the calling key's status. `limit`/`limit_remaining` null = unlimited. */
export const KeyInfo = Schema.Struct({
  label: Schema.String,
  limit: Schema.NullOr(Usd),
  limit_remaining: Schema.NullOr(Usd),
  limit_reset: defaulted(Schema.NullOr(Schema.String), none),
  include_byok_in_limit: defaulted(Schema.Boolean, no),
  usage: Usd,
  usage_daily: Usd,
  usage_weekly: Usd,
  usage_monthly: Usd,
  byok_usage: defaulted(Usd, zero),
  byok_usage_daily: defaulted(Usd, zero),
  byok_usage_weekly: defaulted(Usd, zero),
  byok_usage_monthly: defaulted(Usd, zero),
  is_free_tier: defaulted(Schema.Boolean, no),
  is_management_key: defaulted(Schema.Boolean, no),
  /** May be absent: decoded as null. */
  expires_at: defaulted(Schema.NullOr(Schema.String), none)
})
/** @see KeyInfo */
export type KeyInfo = typeof KeyInfo.Type

/** `GET /keys` → one item of `data`. `hash` is the SHA-256 hex of the key. */
export const KeyListItem = Schema.Struct({
  hash: Schema.String,
  name: Schema.String,
  label: Schema.String,
  disabled: Schema.Boolean,
  limit: Schema.NullOr(Usd),
  limit_remaining: defaulted(Schema.NullOr(Usd), none),
  limit_reset: defaulted(Schema.NullOr(Schema.String), none),
  usage: Usd,
  usage_daily: defaulted(Usd, zero),
  usage_weekly: defaulted(Usd, zero),
  usage_monthly: defaulted(Usd, zero),
  created_at: Schema.String,
  updated_at: defaulted(Schema.NullOr(Schema.String), none),
  expires_at: defaulted(Schema.NullOr(Schema.String), none)
})
/** @see KeyListItem */
export type KeyListItem = typeof KeyListItem.Type

/** `GET /activity` → one row of `data`: one (date, model, endpoint) of a completed UTC day. */
export const ActivityRow = Schema.Struct({
  date: Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}/)),
  model: Schema.String,
  model_permaslug: Schema.String,
  endpoint_id: Schema.String,
  provider_name: Schema.String,
  usage: Usd,
  byok_usage_inference: defaulted(Usd, zero),
  requests: Schema.Number,
  prompt_tokens: Schema.Number,
  /** Already includes `reasoning_tokens`. */
  completion_tokens: Schema.Number,
  reasoning_tokens: defaulted(Schema.Number, zero)
})
/** @see ActivityRow */
export type ActivityRow = typeof ActivityRow.Type

/** `GET /credits` → `data`. Balance = credits - usage. */
export const Credits = Schema.Struct({ total_credits: Usd, total_usage: Usd })
/** @see Credits */
export type Credits = typeof Credits.Type

/** OpenRouter's `{"data": ...}` envelope. */
export const Envelope = <S extends Schema.Schema.Any>(data: S) => Schema.Struct({ data })

/** OpenRouter's error envelope; read for its message only, the status decides. */
export const ErrorEnvelope = Schema.Struct({
  error: Schema.Struct({ code: Schema.optional(Schema.Number), message: Schema.String })
})

/**
 * OpenRouter's `GET /key` figures as the domain records them: micro-dollars, and usage windows never below
 * zero (the domain's status refuses negative usage).
 */
export const toKeyStatus = (info: KeyInfo): ApiKeyEvents.KeyStatus => ({
  label: info.label,
  limit: info.limit === null ? null : usdToMicros(info.limit),
  limitRemaining: info.limit_remaining === null ? null : usdToMicros(info.limit_remaining),
  limitReset: info.limit_reset,
  usage: usdToMicros(Math.max(0, info.usage)),
  usageDaily: usdToMicros(Math.max(0, info.usage_daily)),
  usageWeekly: usdToMicros(Math.max(0, info.usage_weekly)),
  usageMonthly: usdToMicros(Math.max(0, info.usage_monthly)),
  isManagementKey: info.is_management_key,
  expiresAt: info.expires_at
})
