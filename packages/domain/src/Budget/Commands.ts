import { Schema } from "effect"
import { ApiKeyId, BudgetId, UserId } from "../Ids.js"
import { BudgetScope } from "./Events.js"
import { BudgetPeriod } from "./Period.js"

/** Amount in micro-dollars; thresholds in percent (the decider checks 1–1000, unique). */
export class CreateBudget extends Schema.TaggedClass<CreateBudget>()("CreateBudget", {
  budgetId: BudgetId,
  userId: UserId,
  scope: BudgetScope,
  keyId: Schema.NullOr(ApiKeyId),
  amount: Schema.Number,
  period: BudgetPeriod,
  thresholds: Schema.Array(Schema.Number),
  at: Schema.DateTimeUtc
}) {}

export class ChangeBudget extends Schema.TaggedClass<ChangeBudget>()("ChangeBudget", {
  budgetId: BudgetId,
  userId: UserId,
  amount: Schema.optional(Schema.Number),
  thresholds: Schema.optional(Schema.Array(Schema.Number)),
  at: Schema.DateTimeUtc
}) {}

export class DeleteBudget extends Schema.TaggedClass<DeleteBudget>()("DeleteBudget", {
  budgetId: BudgetId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

/** Decides the budget again at `at` against the usage recorded so far: fires what is newly crossed. */
export class EvaluateBudget extends Schema.TaggedClass<EvaluateBudget>()("EvaluateBudget", {
  budgetId: BudgetId,
  at: Schema.DateTimeUtc
}) {}

/** Decides a key's spike rule for the day of `at` (`factor`: SPIKE_FACTOR). */
export class EvaluateSpike extends Schema.TaggedClass<EvaluateSpike>()("EvaluateSpike", {
  keyId: ApiKeyId,
  factor: Schema.Number,
  at: Schema.DateTimeUtc
}) {}

export const BudgetCommand = Schema.Union(CreateBudget, ChangeBudget, DeleteBudget, EvaluateBudget, EvaluateSpike)
export type BudgetCommand = typeof BudgetCommand.Type

/** The thresholds a budget gets when none are given. */
export const DEFAULT_THRESHOLDS: ReadonlyArray<number> = [50, 80, 100]
