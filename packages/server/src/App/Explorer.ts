import {
  ApiKeyId,
  isEstimated,
  KeyForbidden,
  KeyNotFound,
  microsToUsd,
  sumUsage,
  type UserId,
  type UtcDate,
  utcDateOf
} from "@orw/domain"
import { compare, type ExplorerFilter, groupLines } from "@orw/domain/Usage/Explorer"
import { ExplorerRow, ExplorerTotals, UsageExplorer } from "@orw/domain/Usage/ExplorerSchema"
import { DateTime, Effect, Option } from "effect"
import * as ApiKeys from "../Projections/ApiKeys.js"
import { effectiveUsage } from "../Projections/UsageStats.js"
import { resolveRange } from "../Rpc/Dashboard.js"

/** What the explorer is asked: a range (defaults as the dashboard's) and a filter. */
export interface ExploreQuery extends ExplorerFilter {
  readonly startDate?: UtcDate | undefined
  readonly endDate?: UtcDate | undefined
}

/** Every key asked for must be the user's: an unknown one is 404, another user's 403 (as `/api/v1/usage`). */
const checkKeys = (userId: UserId, keyIds: ReadonlyArray<string>) =>
  Effect.forEach(
    keyIds,
    (keyId) =>
      Effect.flatMap(
        ApiKeys.summaryById(keyId),
        (key): Effect.Effect<void, KeyNotFound | KeyForbidden> =>
          Option.isNone(key)
            ? Effect.fail(new KeyNotFound())
            : key.value.userId !== userId
              ? Effect.fail(new KeyForbidden())
              : Effect.void
      ),
    { discard: true }
  )

/**
 * The usage explorer's rows, for its page (RPC) and its export (`/api/usage`): the user's effective usage of
 * the range (the supersede rule applied over all models before any model filter), filtered by key and model,
 * summed exactly (micro-dollars) per period and model or key, ordered by date then model or key.
 */
export const explore = Effect.fn("Explorer.explore")(function* (userId: UserId, query: ExploreQuery) {
  const today = utcDateOf(yield* DateTime.now)
  const range = yield* resolveRange({ start_date: query.startDate, end_date: query.endDate }, today)
  yield* checkKeys(userId, query.keyIds)
  const lines = yield* effectiveUsage({ userId, startDate: range.start, endDate: range.end })
  const keys = yield* ApiKeys.summariesOf(userId)
  const names = new Map<string, string>(keys.map((k) => [k.id, k.name]))
  const groups = groupLines(lines, query)
  const rows = groups.map(({ period, group, lines }) => {
    const sum = sumUsage(lines)
    return new ExplorerRow({
      date: period,
      group,
      label: query.split === "model" ? group : (names.get(group) ?? group),
      requests: sum.requests,
      tokens_input: sum.tokensInput,
      tokens_output: sum.tokensOutput,
      cost: microsToUsd(sum.cost),
      estimated: isEstimated(lines, today)
    })
  })
  const total = sumUsage(groups.flatMap((g) => g.lines))
  return new UsageExplorer({
    start_date: range.start,
    end_date: range.end,
    granularity: query.granularity,
    split: query.split,
    rows,
    totals: new ExplorerTotals({
      requests: total.requests,
      tokens_input: total.tokensInput,
      tokens_output: total.tokensOutput,
      cost: microsToUsd(total.cost)
    }),
    keys: keys.map((k) => ({ id: ApiKeyId.make(k.id), name: k.name })),
    models: [...new Set(lines.map((l) => l.model))].sort(compare)
  })
})
