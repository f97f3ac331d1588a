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

const checkRange = (range: DateRange) =>
  range.startDate !== undefined && range.endDate !== undefined && range.startDate > range.endDate
    ? Effect.fail(new DateRangeReversed())
    : Effect.void

/**
 * The public API's read side: totals, daily usage and per-key figures, from the usage read model's
 * effective rows and the domain's exact sums (micro-dollars, converted to USD at the end).
 */
export class Stats extends Effect.Service<Stats>()("orw/App/Stats", {
  succeed: {
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

    /** One page of usage per (date, model), over all the user's keys or one of them; 404 for a key not theirs. */
    usage: Effect.fn("Stats.usage")(function* (
      userId: UserId,
      query: DateRange & { readonly keyId?: string | undefined; readonly page: number; readonly limit: number }
    ) {
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
      const groups = [...sumUsageBy(lines, (l) => `${l.date}|${l.model}`).values()]
      const start = (query.page - 1) * query.limit
      return new UsageResponse({
        items: groups.slice(start, start + query.limit).map(
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
        ),
        pagination: new Pagination({
          page: query.page,
          limit: query.limit,
          total: groups.length,
          pages: Math.ceil(groups.length / query.limit)
        })
      })
    }),

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
