import type { SqlClient } from "@effect/sql"
import { type ApiKeyId, BudgetCommands, type BudgetId, type DomainCommand, type UserId } from "@orw/domain"
import { DateTime, Effect } from "effect"
import type { ExecuteOptions } from "./CommandHandler.js"
import type { EventMetadata, StoredEvent } from "./EventStore.js"
import * as Budgets from "./Projections/Budgets.js"

type Dispatch = (
  command: DomainCommand,
  options: ExecuteOptions
) => Effect.Effect<unknown, unknown, SqlClient.SqlClient>

/**
 * Usage changed: every budget it counts toward is decided again, and each key's spike rule, each as a
 * command of its own decided against the budget's (the key's) stream, so a threshold fires once whatever
 * races. A decision that keeps losing races is logged and left to the catch-up (`AlertWatch`): it never
 * fails the usage that was recorded.
 */
export const evaluateUsage = (
  dispatch: Dispatch,
  appended: ReadonlyArray<StoredEvent>,
  metadata: EventMetadata,
  spikeFactor: number
): Effect.Effect<void, never, SqlClient.SqlClient> => {
  const keys = new Map<ApiKeyId, UserId>()
  for (const { event } of appended) if (event._tag === "UsageRecorded") keys.set(event.keyId, event.userId)
  // Most commands record no usage: nothing to evaluate, no span either.
  if (keys.size === 0) return Effect.void
  return Effect.gen(function* () {
    const at = yield* DateTime.now
    const budgets = new Set<BudgetId>()
    for (const [keyId, userId] of keys) for (const id of yield* Budgets.touching(userId, keyId)) budgets.add(id)
    const followUp: ExecuteOptions = { metadata: { ...metadata, actor: null } }
    // Made of values already checked (ids of committed events, the clock's time): not validated again.
    const checked = { disableValidation: true }
    const commands: Array<DomainCommand> = [
      ...[...budgets].map((budgetId) => new BudgetCommands.EvaluateBudget({ budgetId, at }, checked)),
      ...[...keys.keys()].map((keyId) => new BudgetCommands.EvaluateSpike({ keyId, factor: spikeFactor, at }, checked))
    ]
    for (const command of commands) {
      yield* dispatch(command, followUp).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning(`${command._tag} not decided now; the catch-up will`).pipe(
            Effect.annotateLogs({ error: String(error) })
          )
        )
      )
    }
  }).pipe(Effect.withSpan("Alerting.evaluateUsage"))
}
