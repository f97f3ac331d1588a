import { Schema } from "effect"
import { KeyStatus } from "../ApiKey/Events.js"
import { ApiKeyId, UtcDate } from "../Ids.js"
import { UsageFigures } from "../Usage/Commands.js"

/**
 * What OpenRouter's `GET /key` said about a key at `at`. Decided over the key's stream and its usage
 * stream together, so the status and the usage it implies commit in one transaction. `day` is the UTC
 * day of `at`: the day that growth of all-time usage belongs to.
 */
export class RecordKeySnapshot extends Schema.TaggedClass<RecordKeySnapshot>()("RecordKeySnapshot", {
  keyId: ApiKeyId,
  status: KeyStatus,
  at: Schema.DateTimeUtc,
  day: UtcDate
}) {}

/** Activity totals of one (date, model): numbers the decider validates; money in micro-dollars. */
export const ActivityTotals = Schema.Struct({
  date: UtcDate,
  model: Schema.String,
  ...UsageFigures.fields
})
export type ActivityTotals = typeof ActivityTotals.Type

/** Per-model activity of a key as OpenRouter reports it now: absolute totals per (date, model). */
export class RecordActivity extends Schema.TaggedClass<RecordActivity>()("RecordActivity", {
  keyId: ApiKeyId,
  totals: Schema.Array(ActivityTotals),
  at: Schema.DateTimeUtc
}) {}

export const SyncCommand = Schema.Union(RecordKeySnapshot, RecordActivity)
export type SyncCommand = typeof SyncCommand.Type
