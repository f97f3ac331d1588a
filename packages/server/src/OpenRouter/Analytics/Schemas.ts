import { Schema } from "effect"

/*
 * `POST /analytics/query` as OpenRouter answers it (openrouter-api.md, "More of the API"), traps included:
 * counts may be JSON strings, an unused metric is `null`, the time field is `date__<granularity>` or
 * `created_at__<granularity>`, and `metadata`/`warnings` come inside `data` or beside it.
 */

/** The body the sync sends: one key (by hash), per model, day or hour buckets. */
export interface AnalyticsQuery {
  readonly metrics: ReadonlyArray<string>
  readonly dimensions: ReadonlyArray<string>
  readonly granularity: "day" | "hour"
  readonly time_range: { readonly start: string; readonly end: string }
  readonly filters: ReadonlyArray<{ readonly field: string; readonly operator: "eq"; readonly value: string }>
  readonly limit: number
}

/** A count or an amount: a number, a numeric string, or null (an unused metric): null reads as 0. */
const Figure = Schema.Union(Schema.Number, Schema.NumberFromString, Schema.Null).pipe(
  Schema.transform(Schema.Number, {
    strict: true,
    decode: (n) => n ?? 0,
    encode: (n) => n
  })
)

/** One row: the bucket (under either name), the model, and the metrics. Unknown fields are ignored. */
export const AnalyticsRow = Schema.Struct({
  date__day: Schema.optional(Schema.String),
  created_at__day: Schema.optional(Schema.String),
  date__hour: Schema.optional(Schema.String),
  created_at__hour: Schema.optional(Schema.String),
  model: Schema.String,
  total_usage: Schema.optionalWith(Figure, { default: () => 0 }),
  byok_usage: Schema.optionalWith(Figure, { default: () => 0 }),
  request_count: Schema.optionalWith(Figure, { default: () => 0 }),
  tokens_prompt: Schema.optionalWith(Figure, { default: () => 0 }),
  tokens_completion: Schema.optionalWith(Figure, { default: () => 0 })
})
export type AnalyticsRow = typeof AnalyticsRow.Type

const Metadata = Schema.Struct({ truncated: Schema.optionalWith(Schema.Boolean, { default: () => false }) })
const Warnings = Schema.Array(Schema.Unknown)

/** The envelope, with `metadata`/`warnings` read from inside `data` or beside it. */
export const AnalyticsResponse = Schema.Struct({
  data: Schema.Struct({
    data: Schema.Array(AnalyticsRow),
    metadata: Schema.optional(Metadata),
    warnings: Schema.optional(Warnings)
  }),
  metadata: Schema.optional(Metadata),
  warnings: Schema.optional(Warnings)
})
export type AnalyticsResponse = typeof AnalyticsResponse.Type

/** The row's bucket start, whichever field carries it; undefined when none does. */
export const bucketOf = (row: AnalyticsRow): string | undefined =>
  row.date__day ?? row.created_at__day ?? row.date__hour ?? row.created_at__hour

/** Whether OpenRouter cut the answer at `limit` (metadata inside or beside `data`). */
export const isTruncated = (response: AnalyticsResponse): boolean =>
  response.data.metadata?.truncated === true || response.metadata?.truncated === true

/** The warnings, wherever they came. */
export const warningsOf = (response: AnalyticsResponse): ReadonlyArray<unknown> => [
  ...(response.data.warnings ?? []),
  ...(response.warnings ?? [])
]
