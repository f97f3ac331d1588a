import {
  DateRangeReversed,
  isEstimated,
  KeyForbidden,
  KeyNotFound,
  microsToUsd,
  sumUsage,
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
import * as UsageStats from "../Projections/UsageStats.js"
import { ReadCache } from "./ReadCache.js"

/** A date range, both ends inclusive, `YYYY-MM-DD`. */
export interface DateRange {
  readonly startDate?: string | undefined
  readonly endDate?: string | undefined
}

const checkRange = (range: DateRange) =>
  range.startDate !== undefined && range.endDate !== undefined && range.startDate > range.endDate
    ? Effect.fail(new DateRangeReversed())
    : Effect.void

/**
 * The public API's read side: totals, daily usage and per-key figures, summed by the usage read model in
 * SQL over its effective rows (exact micro-dollars, converted to USD at the end), paged in SQL.
 */
export class Stats extends Effect.Service<Stats>()("orw/App/Stats", {
  effect: Effect.map(ReadCache, ({ cached }) => ({
    /** Totals and per-model figures of the user's keys: all time unless a range is given. */
    stats: Effect.fn("Stats.stats")(function* (userId: UserId, range: DateRange) {
      yield* checkRange(range)
      return yield* cached(`stats|${userId}|${range.startDate ?? ""}|${range.endDate ?? ""}`, statsOf(userId, range))
    }),

    /** One page of usage per (date, model), over all the user's keys or one of them; 404 for a key not theirs. */
    usage: Effect.fn("Stats.usage")(function* (userId: UserId, query: UsageQuery) {
      yield* checkRange(query)
      if (query.keyId !== undefined) {
        const key = yield* ApiKeys.summaryById(query.keyId)
        // As everywhere in the contract: unknown is 404, another user's key is 403.
        if (Option.isNone(key)) return yield* new KeyNotFound()
        if (key.value.userId !== userId) return yield* new KeyForbidden()
      }
      const today = DateTime.formatIsoDateUtc(yield* DateTime.now)
      const { keyId, startDate, endDate, page, limit } = query
      const key = `usage|${userId}|${keyId ?? ""}|${startDate ?? ""}|${endDate ?? ""}|${page}|${limit}|${today}`
      return yield* cached(key, usageOf(userId, query, today))
    }),

    /** The user's keys with all-time figures. */
    keys: Effect.fn("Stats.keys")(function* (userId: UserId) {
      return yield* cached(`keys|${userId}`, keysOf(userId))
    })
  })),
  dependencies: [ReadCache.Default]
}) {}

type UsageQuery = DateRange & { readonly keyId?: string | undefined; readonly page: number; readonly limit: number }

const statsOf = (userId: UserId, range: DateRange) =>
  Effect.gen(function* () {
    const byModel = [...(yield* UsageStats.byModel({ userId, ...range }))].sort(
      (a, b) => b.sum.cost - a.sum.cost || a.model.localeCompare(b.model)
    )
    const total = sumUsage(byModel.map((m) => m.sum))
    return new StatsResponse({
      summary: new StatsSummary({
        total_requests: total.requests,
        total_cost: microsToUsd(total.cost),
        total_tokens_input: total.tokensInput,
        total_tokens_output: total.tokensOutput
      }),
      by_model: byModel.map(
        ({ model, sum }) =>
          new ModelStats({
            model,
            requests: sum.requests,
            cost: microsToUsd(sum.cost),
            tokens_input: sum.tokensInput,
            tokens_output: sum.tokensOutput
          })
      )
    })
  })

const usageOf = (userId: UserId, query: UsageQuery, today: string) =>
  Effect.gen(function* () {
    const groups = yield* UsageStats.byDateModel(
      { userId, keyId: query.keyId, startDate: query.startDate, endDate: query.endDate },
      { offset: (query.page - 1) * query.limit, limit: query.limit }
    )
    return new UsageResponse({
      items: groups.items.map(
        ({ date, model, sum }) =>
          new UsageItem({
            date,
            model,
            requests: sum.requests,
            tokens_input: sum.tokensInput,
            tokens_output: sum.tokensOutput,
            cost: microsToUsd(sum.cost),
            estimated: isEstimated([{ date, model }], today)
          })
      ),
      pagination: new Pagination({
        page: query.page,
        limit: query.limit,
        total: groups.total,
        pages: Math.ceil(groups.total / query.limit)
      })
    })
  })

const keysOf = (userId: UserId) =>
  Effect.gen(function* () {
    const keys = yield* ApiKeys.summariesOf(userId)
    const totals = yield* UsageStats.byKey({ userId })
    return new V1KeyList({
      items: keys.map((k) => {
        const t = totals.get(k.id) ?? zeroSum()
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
