import {
  addDays,
  daysBetween,
  InvalidDateRange,
  isEstimated,
  MAX_RANGE_DAYS,
  microsToUsd,
  sumUsage,
  UsageEvents,
  type UserId,
  type UtcDate,
  utcDateOf,
  zeroSum
} from "@orw/domain"
import { Dashboard, type DashboardQuery } from "@orw/domain/Rpc"
import { DateTime, Effect } from "effect"
import * as ApiKeys from "../Projections/ApiKeys.js"
import * as UsageStats from "../Projections/UsageStats.js"
import * as Balances from "../SideTables/Balances.js"

/** The default range: the last 30 UTC days, today included. */
export const DEFAULT_DAYS = 30
const MAX_DAYS = MAX_RANGE_DAYS

/** The range a query asks for, with its defaults; fails when start is after end or it is too long. */
export const resolveRange = (query: DashboardQuery, today: UtcDate) => {
  const end = query.end_date ?? today
  const start = query.start_date ?? addDays(end, -(DEFAULT_DAYS - 1))
  const days = daysBetween(start, end) + 1
  return days < 1 || days > MAX_DAYS
    ? Effect.fail(new InvalidDateRange({ maxDays: MAX_DAYS }))
    : Effect.succeed({ start, end, days })
}

interface Sum {
  readonly cost: number
  readonly requests: number
}
const byCost = (a: Sum, b: Sum) => b.cost - a.cost || b.requests - a.requests

/**
 * Spend of the user's keys over a date range, with the sync's supersede rule (per-model rows
 * replace a day's `unattributed` row), summed in SQL. Sums are exact micro-dollars, converted to USD at the end.
 */
export const dashboard = (userId: UserId, query: DashboardQuery) =>
  Effect.gen(function* () {
    const today = utcDateOf(yield* DateTime.now)
    const range = yield* resolveRange(query, today)
    const filter = { userId, keyId: query.key_id, startDate: range.start, endDate: range.end }
    const perModel = yield* UsageStats.byModel(filter)
    const perKey = yield* UsageStats.byKey(filter)
    const perDay = yield* UsageStats.byDay(filter)
    const keys = yield* ApiKeys.summariesOf(userId)
    const total = sumUsage(perModel.map((m) => m.sum))
    const money = yield* Balances.of(userId)
    const shownKeys = keys.filter((key) => query.key_id === undefined || key.id === query.key_id)
    return new Dashboard({
      start_date: range.start,
      end_date: range.end,
      summary: {
        total_cost: microsToUsd(total.cost),
        total_requests: total.requests,
        total_tokens_input: total.tokensInput,
        total_tokens_output: total.tokensOutput,
        balance: money.balance,
        balance_updated_at: money.updatedAt
      },
      by_key: shownKeys
        .map((key) => ({ key, sum: perKey.get(key.id) ?? zeroSum() }))
        .sort((a, b) => byCost(a.sum, b.sum))
        .map(({ key, sum }) => ({
          key_id: key.id,
          name: key.name,
          cost: microsToUsd(sum.cost),
          requests: sum.requests
        })),
      by_model: [...perModel]
        .sort((a, b) => byCost(a.sum, b.sum) || a.model.localeCompare(b.model))
        .map(({ model, sum }) => ({ model, cost: microsToUsd(sum.cost), requests: sum.requests })),
      by_day: Array.from({ length: range.days }, (_, i) => {
        const date = addDays(range.start, i)
        const day = perDay.get(date)
        const sum = day?.sum ?? zeroSum()
        // isEstimated of the day's effective rows: running, or known only as `unattributed` growth.
        const estimated =
          date >= today || isEstimated(day?.unattributed ? [{ date, model: UsageEvents.UNATTRIBUTED }] : [], today)
        return { date, cost: microsToUsd(sum.cost), requests: sum.requests, estimated }
      })
    })
  })
