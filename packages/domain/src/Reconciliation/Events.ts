import { Schema } from "effect"
import { ApiKeyId, UserId, UtcDate } from "../Ids.js"
import { NonNegativeMicros } from "../Money.js"

/** What a discrepancy is about: one (date, model) of a completed day, or the key's all-time total. */
export const DiscrepancyScope = Schema.Literal("day", "all-time")
export type DiscrepancyScope = typeof DiscrepancyScope.Type

/**
 * The daily reconciliation (openrouter-api.md, item 7) found that what we recorded for a key differs from
 * what OpenRouter reports now by more than a micro-dollar. `recorded` and `upstream` are micro-dollars:
 * for `day`, the cost of (`date`, `model`) as recorded before the pass and as `/activity` says it now (the
 * pass then records OpenRouter's figure, so it heals); for `all-time`, the recorded total and OpenRouter's
 * all-time `usage` as compared by the pass (see `Reconciliation/Decider.ts`: what "recorded" means), with
 * `date` and `model` null. No secret: ids and figures only.
 */
export class UsageDiscrepancyFound extends Schema.TaggedClass<UsageDiscrepancyFound>()("UsageDiscrepancyFound", {
  keyId: ApiKeyId,
  userId: UserId,
  scope: DiscrepancyScope,
  date: Schema.NullOr(UtcDate),
  model: Schema.NullOr(Schema.String),
  recorded: NonNegativeMicros,
  upstream: NonNegativeMicros,
  at: Schema.DateTimeUtc
}) {}

export const ReconciliationEvent = UsageDiscrepancyFound
export type ReconciliationEvent = UsageDiscrepancyFound
