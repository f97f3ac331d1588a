import { Schema } from "effect"
import { UtcDate } from "../Dates.js"
import { ApiKeyId } from "../Ids.js"

/*
 * What the usage explorer asks and reads, over RPC (the page) and `GET /api/usage` (its CSV export): the
 * rows of the filter, grouped per period and per model or key. Money is USD rounded to 6 decimals.
 */

export const GranularitySchema = Schema.Literal("day", "week", "month")
export const SplitSchema = Schema.Literal("model", "key")
export const SortColumnSchema = Schema.Literal("date", "label", "requests", "tokens_input", "tokens_output", "cost")
export const SortOrderSchema = Schema.Literal("asc", "desc")

/** The explorer's filter: both dates inclusive; no key ids / models means every key / model. */
export const ExplorerQuery = Schema.Struct({
  start_date: UtcDate,
  end_date: UtcDate,
  key_ids: Schema.optionalWith(Schema.Array(ApiKeyId), { default: () => [] }),
  models: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  granularity: Schema.optionalWith(GranularitySchema, { default: () => "day" as const }),
  split: Schema.optionalWith(SplitSchema, { default: () => "model" as const })
})
export type ExplorerQuery = typeof ExplorerQuery.Type

/** One row: a period (its first day) and one model or key, with the effective usage summed. */
export class ExplorerRow extends Schema.Class<ExplorerRow>("ExplorerRow")({
  /** The first day of the period: the day, the Monday of the week, the 1st of the month. */
  date: Schema.String,
  /** The model, or the key's id. */
  group: Schema.String,
  /** The model, or the key's name. */
  label: Schema.String,
  requests: Schema.Int,
  tokens_input: Schema.Int,
  tokens_output: Schema.Int,
  cost: Schema.Number,
  /** Some of the row can still change (a running day, or usage not split per model yet). */
  estimated: Schema.Boolean
}) {}

export class ExplorerTotals extends Schema.Class<ExplorerTotals>("ExplorerTotals")({
  requests: Schema.Int,
  tokens_input: Schema.Int,
  tokens_output: Schema.Int,
  cost: Schema.Number
}) {}

/** A key the filter can pick. */
export const ExplorerKey = Schema.Struct({ id: ApiKeyId, name: Schema.String })

/**
 * The rows of a filter, ordered by date then model or key (the table re-sorts them), their exact total, and
 * what the filter can pick from: every key of the user, every model with usage in the range.
 */
export class UsageExplorer extends Schema.Class<UsageExplorer>("UsageExplorer")({
  start_date: UtcDate,
  end_date: UtcDate,
  granularity: GranularitySchema,
  split: SplitSchema,
  rows: Schema.Array(ExplorerRow),
  totals: ExplorerTotals,
  keys: Schema.Array(ExplorerKey),
  models: Schema.Array(Schema.String)
}) {}
