import { Schema } from "effect"
import { ApiKeyId, UtcDate } from "../Ids.js"

/*
 * What the web UI reads over RPC beyond the JSON API's own rows (which the RPCs reuse). Money is a
 * number of USD rounded to 6 decimals, dates are `YYYY-MM-DD` (UTC), times ISO 8601 UTC.
 */

/** USD, rounded to 6 decimals (the server sums exact micro-dollars and converts at the end). */
const Usd = Schema.Number

/** The dashboard's date range and optional key filter; without dates, the last 30 UTC days up to today. */
export const DashboardQuery = Schema.Struct({
  start_date: Schema.optional(UtcDate),
  end_date: Schema.optional(UtcDate),
  key_id: Schema.optional(ApiKeyId)
})
export type DashboardQuery = typeof DashboardQuery.Type

export const DashboardSummary = Schema.Struct({
  total_cost: Usd,
  total_requests: Schema.Int,
  total_tokens_input: Schema.Int,
  total_tokens_output: Schema.Int,
  /** Credits minus usage, read through a management key; null = unknown (never shown as $0). */
  balance: Schema.NullOr(Usd),
  /** When the balance was read (ISO 8601), null when unknown. */
  balance_updated_at: Schema.NullOr(Schema.String)
})

export const SpendByKey = Schema.Struct({ key_id: ApiKeyId, name: Schema.String, cost: Usd, requests: Schema.Int })
export const SpendByModel = Schema.Struct({ model: Schema.String, cost: Usd, requests: Schema.Int })
/** `estimated`: the day runs, or is known only as `unattributed` growth (the domain's `isEstimated`). */
export const SpendByDay = Schema.Struct({ date: UtcDate, cost: Usd, requests: Schema.Int, estimated: Schema.Boolean })

/**
 * Spend over a date range: totals, per key (every key of the user, most expensive first), per
 * model (most expensive first) and per day (every day of the range, zero when idle).
 */
export class Dashboard extends Schema.Class<Dashboard>("Dashboard")({
  start_date: UtcDate,
  end_date: UtcDate,
  summary: DashboardSummary,
  by_key: Schema.Array(SpendByKey),
  by_model: Schema.Array(SpendByModel),
  by_day: Schema.Array(SpendByDay)
}) {}
