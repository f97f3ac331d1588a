import { Schema } from "effect"
import { AlertId, ApiKeyId, BudgetId, UserId, UtcDate } from "../Ids.js"
import { Micros } from "../Money.js"
import { BudgetPeriod } from "./Period.js"

/** `account`: all the user's keys; `key`: one key. */
export const BudgetScope = Schema.Literal("account", "key")
export type BudgetScope = typeof BudgetScope.Type

const Thresholds = Schema.Array(Schema.Int)

export class BudgetCreated extends Schema.TaggedClass<BudgetCreated>()("BudgetCreated", {
  budgetId: BudgetId,
  userId: UserId,
  scope: BudgetScope,
  keyId: Schema.NullOr(ApiKeyId),
  amount: Micros,
  period: BudgetPeriod,
  thresholds: Thresholds,
  at: Schema.DateTimeUtc
}) {}

/**
 * New amount or thresholds. `rearmed`: thresholds that had fired in the current period (`periodStart`) and
 * that the new amount puts out of reach again, so they fire when the spend reaches them anew.
 */
export class BudgetChanged extends Schema.TaggedClass<BudgetChanged>()("BudgetChanged", {
  budgetId: BudgetId,
  userId: UserId,
  amount: Micros,
  thresholds: Thresholds,
  periodStart: UtcDate,
  rearmed: Thresholds,
  forecastRearmed: Schema.Boolean,
  at: Schema.DateTimeUtc
}) {}

export class BudgetDeleted extends Schema.TaggedClass<BudgetDeleted>()("BudgetDeleted", {
  budgetId: BudgetId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

/** One threshold of one budget reached in one period: appended once per (budget, threshold, period). */
export class BudgetThresholdCrossed extends Schema.TaggedClass<BudgetThresholdCrossed>()("BudgetThresholdCrossed", {
  alertId: AlertId,
  budgetId: BudgetId,
  userId: UserId,
  keyId: Schema.NullOr(ApiKeyId),
  threshold: Schema.Int,
  amount: Micros,
  spent: Micros,
  period: BudgetPeriod,
  periodStart: UtcDate,
  at: Schema.DateTimeUtc
}) {}

/** The period's projected spend first exceeds the amount, before 100 % is reached: once per period. */
export class BudgetForecastExceeded extends Schema.TaggedClass<BudgetForecastExceeded>()("BudgetForecastExceeded", {
  alertId: AlertId,
  budgetId: BudgetId,
  userId: UserId,
  keyId: Schema.NullOr(ApiKeyId),
  amount: Micros,
  spent: Micros,
  projected: Micros,
  period: BudgetPeriod,
  periodStart: UtcDate,
  at: Schema.DateTimeUtc
}) {}

/**
 * The (user, scope, key, period) a budget holds: one stream per slot makes "at most one budget" the
 * store's decision, as `email-<address>` does for emails.
 */
export class BudgetSlotClaimed extends Schema.TaggedClass<BudgetSlotClaimed>()("BudgetSlotClaimed", {
  slot: Schema.String,
  budgetId: BudgetId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export class BudgetSlotReleased extends Schema.TaggedClass<BudgetSlotReleased>()("BudgetSlotReleased", {
  slot: Schema.String,
  budgetId: BudgetId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

/** A key's spend today beyond SPIKE_FACTOR × its trailing 7-day average (and at least $1): once a day per key. */
export class KeySpendSpiked extends Schema.TaggedClass<KeySpendSpiked>()("KeySpendSpiked", {
  alertId: AlertId,
  keyId: ApiKeyId,
  userId: UserId,
  date: UtcDate,
  spent: Micros,
  /** The trailing 7 completed days' daily average. */
  average: Micros,
  factor: Schema.Number,
  at: Schema.DateTimeUtc
}) {}

export const BudgetEvent = Schema.Union(
  BudgetCreated,
  BudgetChanged,
  BudgetDeleted,
  BudgetThresholdCrossed,
  BudgetForecastExceeded
)
export type BudgetEvent = typeof BudgetEvent.Type

export const BudgetSlotEvent = Schema.Union(BudgetSlotClaimed, BudgetSlotReleased)
export type BudgetSlotEvent = typeof BudgetSlotEvent.Type

export const SpikeEvent = KeySpendSpiked
export type SpikeEvent = KeySpendSpiked

/** The events users are alerted of. */
export type AlertEvent = BudgetThresholdCrossed | BudgetForecastExceeded | KeySpendSpiked
