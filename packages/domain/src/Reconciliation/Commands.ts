import { Schema } from "effect"
import { ApiKeyId, UtcDate } from "../Ids.js"
import { ActivityTotals } from "../Sync/Commands.js"

/**
 * OpenRouter's per-model figures of a key's completed days `from`..`to` (inclusive) as `/activity` reports
 * them now: absolute totals per (date, model), money in micro-dollars.
 */
export const UpstreamDays = Schema.Struct({
  from: UtcDate,
  to: UtcDate,
  totals: Schema.Array(ActivityTotals)
})
export type UpstreamDays = typeof UpstreamDays.Type

/**
 * Reconcile a key's recorded usage with OpenRouter's (openrouter-api.md, item 7), after a sync recorded the
 * key's `/key` snapshot. `activity` is null when the key has no per-model source (no management key): then
 * only the all-time check runs. `today` is the UTC day of the snapshot.
 */
export class ReconcileUsage extends Schema.TaggedClass<ReconcileUsage>()("ReconcileUsage", {
  keyId: ApiKeyId,
  activity: Schema.NullOr(UpstreamDays),
  today: UtcDate,
  at: Schema.DateTimeUtc
}) {}

export const ReconciliationCommand = ReconcileUsage
export type ReconciliationCommand = ReconcileUsage
