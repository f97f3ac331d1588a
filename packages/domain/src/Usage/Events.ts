import { Schema } from "effect"
import { ApiKeyId, UserId, UtcDate } from "../Ids.js"
import { NonNegativeMicros } from "../Money.js"

/** The model name of usage seen only as growth of a key's all-time total (not split by model yet): in Plain.ts. */
export { UNATTRIBUTED } from "../Plain.js"

/** Totals of one (key, date, model): absolute, so a re-sync that revises a day is exact. */
export const UsageTotals = Schema.Struct({
  requests: Schema.NonNegativeInt,
  tokensInput: Schema.NonNegativeInt,
  tokensOutput: Schema.NonNegativeInt,
  cost: NonNegativeMicros,
  byokCost: NonNegativeMicros
})
export type UsageTotals = typeof UsageTotals.Type

export class UsageRecorded extends Schema.TaggedClass<UsageRecorded>()("UsageRecorded", {
  keyId: ApiKeyId,
  userId: UserId,
  date: UtcDate,
  model: Schema.String,
  totals: UsageTotals,
  at: Schema.DateTimeUtc
}) {}

export const UsageEvent = UsageRecorded
export type UsageEvent = UsageRecorded
