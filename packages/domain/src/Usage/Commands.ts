import { Schema } from "effect"
import { ApiKeyId, UtcDate } from "../Ids.js"

/** Usage of one (key, date, model), as numbers the decider validates. */
export const UsageFigures = Schema.Struct({
  requests: Schema.Number,
  tokensInput: Schema.Number,
  tokensOutput: Schema.Number,
  cost: Schema.Number,
  byokCost: Schema.Number
})
export type UsageFigures = typeof UsageFigures.Type

/**
 * `absolute` sets the totals of (key, date, model) (activity rows); `increment` adds to
 * them (the growth of all-time usage, recorded as `unattributed`).
 */
export class RecordUsage extends Schema.TaggedClass<RecordUsage>()("RecordUsage", {
  keyId: ApiKeyId,
  date: UtcDate,
  model: Schema.String,
  mode: Schema.Literal("absolute", "increment"),
  figures: UsageFigures,
  at: Schema.DateTimeUtc
}) {}

export const UsageCommand = RecordUsage
export type UsageCommand = RecordUsage
