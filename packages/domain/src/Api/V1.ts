import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { UtcDate } from "../Dates.js"
import { DateRangeReversed, KeyForbidden, KeyNotFound } from "../Errors.js"
import { ApiKeyId } from "../Ids.js"
import { AlertList } from "./Alerts.js"
import { json } from "./Errors.js"
import { MAX_PAGE_SIZE, PageParams, Pagination, positiveInt } from "./Paging.js"

export { MAX_PAGE_SIZE, PageParams, Pagination, positiveInt }

import { ApiTokenAuth } from "./Security.js"

/** A real calendar day, `YYYY-MM-DD` (UTC): the domain's UtcDate, with its calendar check. */
export const DateParam = UtcDate.annotations({ description: "A UTC day, YYYY-MM-DD (inclusive)" })

export const StatsParams = Schema.Struct({
  start_date: Schema.optional(DateParam),
  end_date: Schema.optional(DateParam)
})

/** `csv`: the rows as CSV (design.md section 9), also chosen by `Accept: text/csv`; `json` by default. */
export const OutputFormat = Schema.Literal("json", "csv").annotations({
  description: "json (default) or csv: every row of the range as text/csv (page and limit do not apply)"
})

export const UsageParams = Schema.Struct({
  start_date: Schema.optional(DateParam),
  end_date: Schema.optional(DateParam),
  key_id: Schema.optional(ApiKeyId),
  page: Schema.optionalWith(positiveInt("page", Number.MAX_SAFE_INTEGER), { default: () => 1 }),
  limit: Schema.optionalWith(positiveInt("limit", MAX_PAGE_SIZE), { default: () => 100 }),
  format: Schema.optional(OutputFormat)
})

/**
 * Documents the `text/csv` alternative of an endpoint's 200 (HttpApi gives one success one content type; the
 * handler answers CSV itself when asked).
 */
export const csvResponse =
  (header: string) =>
  (operation: Record<string, unknown>): Record<string, unknown> => {
    const responses = (operation.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>
    const ok = responses["200"]
    if (ok !== undefined)
      ok.content = {
        ...ok.content,
        "text/csv": {
          schema: {
            type: "string",
            description: `With format=csv or Accept: text/csv: a header line \`${header}\`, then every row (RFC 4180 quoting, CRLF lines)`
          }
        }
      }
    return operation
  }

/** How every figure of this API is defined (also in the README). */
const RECORDED =
  "Recorded spend: the sum of the (key, date, model) rows recorded from OpenRouter, a day's per-model rows " +
  "superseding its `unattributed` growth; the same figure the keys page, the dashboard and orw replay show."

export class StatsSummary extends Schema.Class<StatsSummary>("StatsSummary")({
  total_requests: Schema.Int,
  total_cost: Schema.Number.annotations({ description: RECORDED }),
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
  cost: Schema.Number,
  estimated: Schema.Boolean.annotations({
    description:
      "true while the figure can still change: the day is running (today), or OpenRouter has not broken it " +
      "down per model yet (model `unattributed`); false once it is OpenRouter's final per-model figure."
  })
}) {}

/** Usage per (date, model), summed over the user's keys unless `key_id` is given; ordered by date, model. */
export class UsageResponse extends Schema.Class<UsageResponse>("UsageResponse")({
  items: Schema.Array(UsageItem),
  pagination: Pagination
}) {}

export class KeyStats extends Schema.Class<KeyStats>("KeyStats")({
  total_requests: Schema.Int,
  total_cost: Schema.Number.annotations({ description: RECORDED })
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
      .annotate(OpenApi.Description, RECORDED)
  )
  .add(
    HttpApiEndpoint.get("usage", "/api/v1/usage")
      .setUrlParams(UsageParams)
      .addSuccess(UsageResponse)
      .addError(json(DateRangeReversed))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .annotate(OpenApi.Summary, "Daily usage per model, paginated (limit at most 1000); or all of it as CSV")
      .annotate(OpenApi.Description, RECORDED)
      .annotate(OpenApi.Transform, csvResponse("date,model,requests,tokens_input,tokens_output,cost"))
  )
  .add(
    HttpApiEndpoint.get("alerts", "/api/v1/alerts")
      .setUrlParams(PageParams)
      .addSuccess(AlertList)
      .annotate(OpenApi.Summary, "Alerts that fired (thresholds, spikes, forecasts), newest first")
  )
  .add(
    HttpApiEndpoint.get("keys", "/api/v1/keys")
      .addSuccess(V1KeyList)
      .annotate(OpenApi.Summary, "The user's keys with all-time figures")
      .annotate(OpenApi.Description, RECORDED)
  )
  .middleware(ApiTokenAuth) {}
