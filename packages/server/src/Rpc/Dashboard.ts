import { InvalidDateRange, microsToUsd, UtcDate } from "@orw/domain"
import { Dashboard, type DashboardQuery } from "@orw/domain/Rpc"
import { DateTime, Effect } from "effect"
import { effectiveUsage } from "../ReadModels/Usage.js"
import { balanceOf, keyNamesOf } from "./Queries.js"

/** The default range: the last 30 UTC days, today included. */
export const DEFAULT_DAYS = 30
const MAX_DAYS = 366
const DAY_MS = 86_400_000

const dayOf = (ms: number) => UtcDate.make(new Date(ms).toISOString().slice(0, 10))
const msOf = (date: string) => Date.parse(`${date}T00:00:00.000Z`)

/** The range a query asks for, with its defaults; fails when start is after end or it is too long. */
export const resolveRange = (query: DashboardQuery, todayMs: number) => {
  const end = query.end_date ?? dayOf(todayMs)
  const start = query.start_date ?? dayOf(msOf(end) - (DEFAULT_DAYS - 1) * DAY_MS)
  const days = (msOf(end) - msOf(start)) / DAY_MS + 1
  // A day that does not exist (2026-02-31) parses to NaN: not an integer count either.
  return !Number.isInteger(days) || days < 1 || days > MAX_DAYS
    ? Effect.fail(new InvalidDateRange({ maxDays: MAX_DAYS }))
    : Effect.succeed({ start, end, days })
}

interface Sum {
  cost: number
  requests: number
}
const add = (sums: Map<string, Sum>, slot: string, cost: number, requests: number) => {
  const sum = sums.get(slot) ?? { cost: 0, requests: 0 }
  sums.set(slot, { cost: sum.cost + cost, requests: sum.requests + requests })
}
const byCost = (a: Sum, b: Sum) => b.cost - a.cost || b.requests - a.requests

/**
 * Spend of the user's keys over a date range, with the sync's supersede rule (per-model rows
 * replace a day's `unattributed` row). Sums are exact micro-dollars, converted to USD at the end.
 */
export const dashboard = (userId: string, query: DashboardQuery) =>
  Effect.gen(function* () {
    const range = yield* resolveRange(query, DateTime.toEpochMillis(yield* DateTime.now))
    const rows = yield* effectiveUsage({ userId, keyId: query.key_id, startDate: range.start, endDate: range.end })
    const keys = yield* keyNamesOf(userId)
    const perKey = new Map<string, Sum>()
    const perModel = new Map<string, Sum>()
    const perDay = new Map<string, Sum>()
    let tokensInput = 0
    let tokensOutput = 0
    for (const row of rows) {
      add(perKey, row.api_key_id, row.cost_micros, row.requests)
      add(perModel, row.model, row.cost_micros, row.requests)
      add(perDay, row.date, row.cost_micros, row.requests)
      tokensInput += row.tokens_input
      tokensOutput += row.tokens_output
    }
    const total = [...perDay.values()].reduce(
      (sum, day) => ({ cost: sum.cost + day.cost, requests: sum.requests + day.requests }),
      { cost: 0, requests: 0 }
    )
    const money = yield* balanceOf(userId)
    const shownKeys = keys.filter((key) => query.key_id === undefined || key.id === query.key_id)
    return new Dashboard({
      start_date: range.start,
      end_date: range.end,
      summary: {
        total_cost: microsToUsd(total.cost),
        total_requests: total.requests,
        total_tokens_input: tokensInput,
        total_tokens_output: tokensOutput,
        balance: money.balance,
        balance_updated_at: money.updatedAt
      },
      by_key: shownKeys
        .map((key) => ({ key, sum: perKey.get(key.id) ?? { cost: 0, requests: 0 } }))
        .sort((a, b) => byCost(a.sum, b.sum))
        .map(({ key, sum }) => ({
          key_id: key.id,
          name: key.name,
          cost: microsToUsd(sum.cost),
          requests: sum.requests
        })),
      by_model: [...perModel]
        .sort(([modelA, a], [modelB, b]) => byCost(a, b) || modelA.localeCompare(modelB))
        .map(([model, sum]) => ({ model, cost: microsToUsd(sum.cost), requests: sum.requests })),
      by_day: Array.from({ length: range.days }, (_, i) => {
        const date = dayOf(msOf(range.start) + i * DAY_MS)
        const sum = perDay.get(date) ?? { cost: 0, requests: 0 }
        return { date, cost: microsToUsd(sum.cost), requests: sum.requests }
      })
    })
  })
