import { SqlClient } from "@effect/sql"
import { DateRangeReversed, KeyForbidden, KeyNotFound, microsToUsd } from "@orw/domain"
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
import { Effect } from "effect"
import { effectiveUsage, type UsageRow } from "../ReadModels/Usage.js"

/** A date range, both ends inclusive, `YYYY-MM-DD`. */
export interface DateRange {
  readonly startDate?: string | undefined
  readonly endDate?: string | undefined
}

interface Totals {
  requests: number
  tokensInput: number
  tokensOutput: number
  costMicros: number
}

const zero = (): Totals => ({ requests: 0, tokensInput: 0, tokensOutput: 0, costMicros: 0 })

/** Adds a row to totals; money stays in integer micro-dollars, so sums are exact. */
const add = (totals: Totals, row: UsageRow): Totals => {
  totals.requests += row.requests
  totals.tokensInput += row.tokens_input
  totals.tokensOutput += row.tokens_output
  totals.costMicros += row.cost_micros
  return totals
}

/** Sums rows per key of `keyOf`, in the order keys are first seen. */
const groupBy = (rows: ReadonlyArray<UsageRow>, keyOf: (row: UsageRow) => string) => {
  const groups = new Map<string, { readonly first: UsageRow; readonly totals: Totals }>()
  for (const row of rows) {
    const key = keyOf(row)
    const group = groups.get(key) ?? { first: row, totals: zero() }
    add(group.totals, row)
    groups.set(key, group)
  }
  return [...groups.values()]
}

const checkRange = (range: DateRange) =>
  range.startDate !== undefined && range.endDate !== undefined && range.startDate > range.endDate
    ? Effect.fail(new DateRangeReversed())
    : Effect.void

/** The public API's read side: totals, daily usage and per-key figures, from projections only. */
export class Stats extends Effect.Service<Stats>()("orw/App/Stats", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const usageOf = (filter: Parameters<typeof effectiveUsage>[0]) =>
      effectiveUsage(filter).pipe(Effect.provideService(SqlClient.SqlClient, sql))

    /** Totals and per-model figures of the user's keys: all time unless a range is given. */
    const stats = Effect.fn("Stats.stats")(function* (userId: string, range: DateRange) {
      yield* checkRange(range)
      const rows = yield* usageOf({ userId, ...range })
      const total = rows.reduce(add, zero())
      const byModel = groupBy(rows, (r) => r.model)
        .map(({ first, totals }) => ({ model: first.model, totals }))
        .sort((a, b) => b.totals.costMicros - a.totals.costMicros || a.model.localeCompare(b.model))
      return new StatsResponse({
        summary: new StatsSummary({
          total_requests: total.requests,
          total_cost: microsToUsd(total.costMicros),
          total_tokens_input: total.tokensInput,
          total_tokens_output: total.tokensOutput
        }),
        by_model: byModel.map(
          ({ model, totals }) =>
            new ModelStats({
              model,
              requests: totals.requests,
              cost: microsToUsd(totals.costMicros),
              tokens_input: totals.tokensInput,
              tokens_output: totals.tokensOutput
            })
        )
      })
    })

    /** One page of usage per (date, model), over all the user's keys or one of them; 404 for a key not theirs. */
    const usage = Effect.fn("Stats.usage")(function* (
      userId: string,
      query: DateRange & { readonly keyId?: string | undefined; readonly page: number; readonly limit: number }
    ) {
      yield* checkRange(query)
      if (query.keyId !== undefined) {
        const owner = yield* sql<{ user_id: string }>`SELECT user_id FROM api_keys WHERE id = ${query.keyId}`.pipe(
          Effect.orDie
        )
        // As everywhere in the contract: unknown is 404, another user's key is 403.
        if (owner[0] === undefined) return yield* new KeyNotFound()
        if (owner[0].user_id !== userId) return yield* new KeyForbidden()
      }
      const rows = yield* usageOf({ userId, keyId: query.keyId, startDate: query.startDate, endDate: query.endDate })
      // Rows come ordered by (date, model, key): the groups keep that order.
      const groups = groupBy(rows, (r) => `${r.date}|${r.model}`)
      const start = (query.page - 1) * query.limit
      return new UsageResponse({
        items: groups.slice(start, start + query.limit).map(
          ({ first, totals }) =>
            new UsageItem({
              date: first.date,
              model: first.model,
              requests: totals.requests,
              tokens_input: totals.tokensInput,
              tokens_output: totals.tokensOutput,
              cost: microsToUsd(totals.costMicros)
            })
        ),
        pagination: new Pagination({
          page: query.page,
          limit: query.limit,
          total: groups.length,
          pages: Math.ceil(groups.length / query.limit)
        })
      })
    })

    /** The user's keys with all-time figures. */
    const keys = Effect.fn("Stats.keys")(function* (userId: string) {
      const keyRows = yield* sql<{ id: string; name: string; label: string; is_active: number }>`
        SELECT id, name, label, is_active FROM api_keys WHERE user_id = ${userId} ORDER BY created_at, id`.pipe(
        Effect.orDie
      )
      const totals = new Map(
        groupBy(yield* usageOf({ userId }), (r) => r.api_key_id).map((g) => [g.first.api_key_id, g.totals])
      )
      return new V1KeyList({
        items: keyRows.map((k) => {
          const t = totals.get(k.id) ?? zero()
          return new V1Key({
            id: k.id,
            name: k.name,
            label: k.label,
            is_active: k.is_active === 1,
            stats: new KeyStats({ total_requests: t.requests, total_cost: microsToUsd(t.costMicros) })
          })
        })
      })
    })

    return { stats, usage, keys } as const
  })
}) {}
