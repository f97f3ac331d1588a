import { nanosToMicros, type SyncCommands, UtcDate, usdToNanos } from "@orw/domain"
import { DateTime, Duration, Effect, RateLimiter, type Redacted } from "effect"
import { OpenRouterClient } from "../Client.js"
import type { OpenRouterError } from "../Errors.js"
import { withUpstreamRetry } from "../Retry.js"
import { SyncSettings } from "../SyncSettings.js"
import { type AnalyticsQuery, type AnalyticsRow, bucketOf, isTruncated } from "./Schemas.js"

/** OpenRouter keeps cost and volume analytics this many days back. */
export const HISTORY_DAYS = 365
/** The days `/activity` serves (the last completed ones): the history import leaves them to it. */
export const ACTIVITY_DAYS = 30
/** At most this many rows per answer (OpenRouter's own cap). */
const ROW_LIMIT = 10_000
const METRICS = ["total_usage", "request_count", "tokens_prompt", "tokens_completion", "byok_usage"] as const

/**
 * The one pace of `POST /analytics/query` for the whole process (64 a minute, OpenRouter's limit; tests
 * lower it): every key's import and today's hourly figures take a permit from this fixed window first.
 */
export class AnalyticsLimiter extends Effect.Service<AnalyticsLimiter>()("orw/AnalyticsLimiter", {
  scoped: Effect.gen(function* () {
    const { analyticsPerMinute } = yield* SyncSettings
    const limit = yield* RateLimiter.make({
      limit: analyticsPerMinute,
      interval: Duration.minutes(1),
      algorithm: "fixed-window"
    })
    return { take: <A, E, R>(effect: Effect.Effect<A, E, R>) => limit(effect) } as const
  })
}) {}

type Totals = SyncCommands.ActivityTotals

/**
 * Analytics rows as the domain records them, summed per (UTC date, model): cost = total_usage − byok_usage
 * (total_usage includes BYOK inference), byok_cost = byok_usage, requests, tokens in and out. Money is summed
 * in nano-dollars and rounded to micro-dollars once per (date, model) (the domain's `usdToNanos`: hourly rows
 * rounded one by one drifted). Rows without a bucket are dropped.
 */
export const analyticsTotals = (rows: ReadonlyArray<AnalyticsRow>): ReadonlyArray<Totals> => {
  const sums = new Map<string, { totals: Totals; costNanos: number; byokNanos: number }>()
  for (const row of rows) {
    const bucket = bucketOf(row)
    if (bucket === undefined) continue
    const date = UtcDate.make(bucket.slice(0, 10))
    const slot = `${date}|${row.model}`
    const before = sums.get(slot)
    const byok = usdToNanos(row.byok_usage)
    const costNanos = (before?.costNanos ?? 0) + usdToNanos(row.total_usage) - byok
    const byokNanos = (before?.byokNanos ?? 0) + byok
    sums.set(slot, {
      costNanos,
      byokNanos,
      totals: {
        date,
        model: row.model,
        requests: (before?.totals.requests ?? 0) + Math.round(row.request_count),
        tokensInput: (before?.totals.tokensInput ?? 0) + Math.round(row.tokens_prompt),
        tokensOutput: (before?.totals.tokensOutput ?? 0) + Math.round(row.tokens_completion),
        cost: nanosToMicros(costNanos),
        byokCost: nanosToMicros(byokNanos)
      }
    })
  }
  return [...sums.values()].map((s) => s.totals).sort((a, b) => (a.date + a.model).localeCompare(b.date + b.model))
}

const iso = (at: DateTime.Utc) => DateTime.formatIso(at).replace(/\.\d{3}Z$/, "Z")

/**
 * Every analytics row of one key (by hash) in [start, end): one query when it fits, and when OpenRouter
 * says `truncated`, the range split in two halves (on bucket boundaries) and each half queried, until a
 * range is one bucket long. Paged by time range, so no row is lost or read twice whatever the row order.
 */
const rowsBetween = (
  mgmt: Redacted.Redacted<string>,
  hash: string,
  granularity: "day" | "hour",
  start: DateTime.Utc,
  end: DateTime.Utc
): Effect.Effect<ReadonlyArray<AnalyticsRow>, OpenRouterError, OpenRouterClient | AnalyticsLimiter | SyncSettings> =>
  Effect.gen(function* () {
    const client = yield* OpenRouterClient
    const limiter = yield* AnalyticsLimiter
    const query: AnalyticsQuery = {
      metrics: METRICS,
      dimensions: ["model"],
      granularity,
      time_range: { start: iso(start), end: iso(end) },
      filters: [{ field: "api_key_id", operator: "eq", value: hash }],
      limit: ROW_LIMIT
    }
    // Each attempt, retries included, takes its own permit: a 429 is honoured (Retry-After) and paced.
    const answer = yield* withUpstreamRetry(limiter.take(client.queryAnalytics(mgmt, query)))
    const bucket = granularity === "day" ? 86_400_000 : 3_600_000
    const span = DateTime.toEpochMillis(end) - DateTime.toEpochMillis(start)
    if (!isTruncated(answer) || span <= bucket) return answer.data.data
    const middle = DateTime.unsafeMake(DateTime.toEpochMillis(start) + Math.floor(span / bucket / 2) * bucket)
    const first = yield* rowsBetween(mgmt, hash, granularity, start, middle)
    const second = yield* rowsBetween(mgmt, hash, granularity, middle, end)
    return [...first, ...second]
  })

const startOfDay = (at: DateTime.Utc) => DateTime.startOf(at, "day")

/**
 * A year of one key's history (openrouter-api.md, item 5): the 365 days before today, minus the days the
 * activity window covers (those come from `/activity` only), per (date, model).
 */
export const importHistory = (mgmt: Redacted.Redacted<string>, hash: string, at: DateTime.Utc) => {
  const today = startOfDay(at)
  const start = DateTime.subtract(today, { days: HISTORY_DAYS })
  const end = DateTime.subtract(today, { days: ACTIVITY_DAYS })
  return Effect.map(rowsBetween(mgmt, hash, "day", start, end), analyticsTotals)
}

/**
 * Today so far, per model, from hourly analytics: OpenRouter's own running split of the day, recorded as
 * absolute totals of today (estimates until `/activity` reports the completed day).
 */
export const todaySoFar = (mgmt: Redacted.Redacted<string>, hash: string, at: DateTime.Utc) => {
  const today = startOfDay(at)
  return Effect.map(rowsBetween(mgmt, hash, "hour", today, DateTime.add(today, { days: 1 })), analyticsTotals)
}
