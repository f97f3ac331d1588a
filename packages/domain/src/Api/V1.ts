import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { UtcDate } from "../Dates.js"
import { DateRangeReversed, KeyForbidden, KeyNotFound } from "../Errors.js"
import { ApiKeyId } from "../Ids.js"
import { json } from "./Errors.js"
import { ApiTokenAuth } from "./Security.js"

/** A real calendar day, `YYYY-MM-DD` (UTC): the domain's UtcDate, with its calendar check. */
export const DateParam = UtcDate.annotations({ description: "A UTC day, YYYY-MM-DD (inclusive)" })

/**
 * A whole number written in decimal digits only: `Number()` would also read `0x10`, `1e3`, ` 1` and `+1`,
 * so each value would have many spellings (and a cache or a log would not see them as one).
 */
const positiveInt = (name: string, max: number) => {
  const message = () => `${name} must be a whole number from 1 to ${max}`
  return Schema.String.pipe(
    Schema.pattern(/^[1-9][0-9]{0,15}$/, { message }),
    Schema.compose(Schema.NumberFromString),
    Schema.filter((n) => Number.isSafeInteger(n) && n >= 1 && n <= max, { message })
  ).annotations({ description: `A whole number from 1 to ${max}` })
}

export const MAX_PAGE_SIZE = 1000

export const StatsParams = Schema.Struct({
  start_date: Schema.optional(DateParam),
  end_date: Schema.optional(DateParam)
})

export const UsageParams = Schema.Struct({
  start_date: Schema.optional(DateParam),
  end_date: Schema.optional(DateParam),
  key_id: Schema.optional(ApiKeyId),
  page: Schema.optionalWith(positiveInt("page", Number.MAX_SAFE_INTEGER), { default: () => 1 }),
  limit: Schema.optionalWith(positiveInt("limit", MAX_PAGE_SIZE), { default: () => 100 })
})

export class StatsSummary extends Schema.Class<StatsSummary>("StatsSummary")({
  total_requests: Schema.Int,
  total_cost: Schema.Number,
  total_tokens_input: Schema.Int,
  total_tokens_output: Schema.Int
}) {}

export class ModelStats extends Schema.Class<ModelStats>("ModelStats")({
  model: Schema.String,
  requests: Schema.Int,
  cost: Schema.Number,
  tokens_input: Schema.Int,
  tokens_output: Schema.Int
}) {}

/** Totals over the user's keys; `by_model` by cost, highest first. Money: USD rounded to 6 decimals. */
export class StatsResponse extends Schema.Class<StatsResponse>("StatsResponse")({
  summary: StatsSummary,
  by_model: Schema.Array(ModelStats)
}) {}

export class UsageItem extends Schema.Class<UsageItem>("UsageItem")({
  date: Schema.String,
  model: Schema.String,
  requests: Schema.Int,
  tokens_input: Schema.Int,
  tokens_output: Schema.Int,
  cost: Schema.Number
}) {}

export class Pagination extends Schema.Class<Pagination>("Pagination")({
  page: Schema.Int,
  limit: Schema.Int,
  total: Schema.Int,
  pages: Schema.Int
}) {}

/** Usage per (date, model), summed over the user's keys unless `key_id` is given; ordered by date, model. */
export class UsageResponse extends Schema.Class<UsageResponse>("UsageResponse")({
  items: Schema.Array(UsageItem),
  pagination: Pagination
}) {}

export class KeyStats extends Schema.Class<KeyStats>("KeyStats")({
  total_requests: Schema.Int,
  total_cost: Schema.Number
}) {}

export class V1Key extends Schema.Class<V1Key>("V1Key")({
  id: ApiKeyId,
  name: Schema.String,
  label: Schema.String,
  is_active: Schema.Boolean,
  stats: KeyStats
}) {}

export class V1KeyList extends Schema.Class<V1KeyList>("V1KeyList")({ items: Schema.Array(V1Key) }) {}

/** The public REST API: API tokens only (`Authorization: Bearer or_api_...`), rate limited per token. */
export class V1Api extends HttpApiGroup.make("v1")
  .add(
    HttpApiEndpoint.get("stats", "/api/v1/stats")
      .setUrlParams(StatsParams)
      .addSuccess(StatsResponse)
      .addError(json(DateRangeReversed))
      .annotate(OpenApi.Summary, "Totals and per-model figures: all time unless start_date/end_date are given")
  )
  .add(
    HttpApiEndpoint.get("usage", "/api/v1/usage")
      .setUrlParams(UsageParams)
      .addSuccess(UsageResponse)
      .addError(json(DateRangeReversed))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .annotate(OpenApi.Summary, "Daily usage per model, paginated (limit at most 1000)")
  )
  .add(
    HttpApiEndpoint.get("keys", "/api/v1/keys")
      .addSuccess(V1KeyList)
      .annotate(OpenApi.Summary, "The user's keys with all-time figures")
  )
  .middleware(ApiTokenAuth) {}
