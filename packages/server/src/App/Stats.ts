import {
  DateRangeReversed,
  isEstimated,
  KeyForbidden,
  KeyNotFound,
  microsToUsd,
  sumUsage,
  sumUsageBy,
  type UserId,
  zeroSum
} from "@orw/domain"
import {
  KeyStats,
  ModelStats,
  Pagination,
  StatsResponse,
  StatsSummary,
  UsageItem,
  UsageResponse,
  V1Key,
  V1KeyList
} from "@orw/domain/Api"
import { DateTime, Effect, Option } from "effect"
import * as ApiKeys from "../Projections/ApiKeys.js"
import { effectiveUsage } from "../Projections/UsageStats.js"

/** A date range, both ends inclusive, `YYYY-MM-DD`. */
export interface DateRange {
  readonly startDate?: string | undefined
  readonly endDate?: string | undefined
}

/** Which usage rows: a range, optionally one key. */
export interface UsageQuery extends DateRange {
  readonly keyId?: string | undefined
}

const checkRange = (range: DateRange) =>
  range.startDate !== undefined && range.endDate !== undefined && range.startDate > range.endDate
    ? Effect.fail(new DateRangeReversed())
    : Effect.void

/**
 * Every usage row per (date, model) of the range, over all the user's keys or one of them (404 for an
 * unknown key, 403 for another user's), ordered by date then model: the JSON pages and the CSV alike.
 */
const usageItems = Effect.fn("Stats.usageItems")(function* (userId: UserId, query: UsageQuery) {
  yield* checkRange(query)
  if (query.keyId !== undefined) {
    const key = yield* ApiKeys.summaryById(query.keyId)
    // As everywhere in the contract: unknown is 404, another user's key is 403.
    if (Option.isNone(key)) return yield* new KeyNotFound()
    if (key.value.userId !== userId) return yield* new KeyForbidden()
  }
  const lines = yield* effectiveUsage({
    userId,
    keyId: query.keyId,
    startDate: query.startDate,
    endDate: query.endDate
  })
  const today = DateTime.formatIsoDateUtc(yield* DateTime.now)
  // Lines come ordered by (date, model, key): the groups keep that order.
  return [...sumUsageBy(lines, (l) => `${l.date}|${l.model}`).values()].map(
    ({ first, sum }) =>
      new UsageItem({
        date: first.date,
        model: first.model,
        requests: sum.requests,
        tokens_input: sum.tokensInput,
        tokens_output: sum.tokensOutput,
        cost: microsToUsd(sum.cost),
        estimated: isEstimated([first], today)
      })
  )
})

/**
 * The public API's read side: totals, daily usage and per-key figures, from the usage read model's
 * effective rows and the domain's exact sums (micro-dollars, converted to USD at the end).
 */
export class Stats extends Effect.Service<Stats>()("orw/App/Stats", {
  succeed: {
    /** One page of usage per (date, model): a slice of {@link usageItems}. */
    usage: (userId: UserId, query: UsageQuery & { readonly page: number; readonly limit: number }) =>
      Effect.map(usageItems(userId, query), (items) => {
        const start = (query.page - 1) * query.limit
        return new UsageResponse({
          items: items.slice(start, start + query.limit),
          pagination: new Pagination({
            page: query.page,
            limit: query.limit,
            total: items.length,
            pages: Math.ceil(items.length / query.limit)
          })
        })
      }),
    /** Totals and per-model figures of the user's keys: all time unless a range is given. */
    stats: Effect.fn("Stats.stats")(function* (userId: UserId, range: DateRange) {
      yield* checkRange(range)
      const lines = yield* effectiveUsage({ userId, ...range })
      const total = sumUsage(lines)
      const byModel = [...sumUsageBy(lines, (l) => l.model).values()].sort(
        (a, b) => b.sum.cost - a.sum.cost || a.first.model.localeCompare(b.first.model)
      )
      return new StatsResponse({
        summary: new StatsSummary({
          total_requests: total.requests,
          total_cost: microsToUsd(total.cost),
          total_tokens_input: total.tokensInput,
          total_tokens_output: total.tokensOutput
        }),
        by_model: byModel.map(
          ({ first, sum }) =>
            new ModelStats({
              model: first.model,
              requests: sum.requests,
              cost: microsToUsd(sum.cost),
              tokens_input: sum.tokensInput,
              tokens_output: sum.tokensOutput
            })
        )
      })
    }),

    usageItems,

    /** The user's keys with all-time figures. */
    keys: Effect.fn("Stats.keys")(function* (userId: UserId) {
      const keys = yield* ApiKeys.summariesOf(userId)
      const totals = sumUsageBy(yield* effectiveUsage({ userId }), (l) => l.keyId)
      return new V1KeyList({
        items: keys.map((k) => {
          const t = totals.get(k.id)?.sum ?? zeroSum()
          return new V1Key({
            id: k.id,
            name: k.name,
            label: k.label,
            is_active: k.flags.isActive,
            stats: new KeyStats({ total_requests: t.requests, total_cost: microsToUsd(t.cost) })
          })
        })
      })
    })
  }
}) {}
