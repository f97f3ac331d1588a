import type { SqlClient } from "@effect/sql"
import { type ApiKeyId, BudgetCommands, type BudgetId, type DomainCommand, type UserId } from "@orw/domain"
import { type Context, DateTime, Effect } from "effect"
import type { ExecuteOptions } from "./CommandHandler.js"
import type { EventMetadata, StoredEvent } from "./EventStore.js"
import * as Budgets from "./Projections/Budgets.js"

type Dispatch = (
  command: DomainCommand,
  options: ExecuteOptions
) => Effect.Effect<unknown, unknown, SqlClient.SqlClient>

/**
 * What the evaluation can know at once, without an effect per step: on SQLite the budgets a key's usage
 * counts toward; on either engine whether a follow-up decides nothing (decided from the state cache).
 */
export interface Shortcut {
  /** The budgets usage of `keyId` counts toward, read now; undefined when they cannot be read without waiting. */
  readonly touchingNow: (userId: UserId, keyId: ApiKeyId) => ReadonlyArray<BudgetId> | undefined
  /** True when `command` is known now to decide nothing; false when it may decide something or cannot be known now. */
  readonly decidesNothingNow: (command: DomainCommand, context: Context.Context<never>) => boolean
}

/**
 * Usage changed: every budget it counts toward is decided again, and each key's spike rule, each as a
 * command of its own decided against the budget's (the key's) stream, so a threshold fires once whatever
 * races. A decision that keeps losing races is logged and left to the catch-up (`AlertWatch`): it never
 * fails the usage that was recorded. With a {@link Shortcut}, the follow-ups known to decide nothing are
 * not dispatched at all (most usage crosses no threshold and is no spike).
 */
export const evaluateUsage = (
  dispatch: Dispatch,
  appended: ReadonlyArray<StoredEvent>,
  metadata: EventMetadata,
  spikeFactor: number,
  shortcut?: Shortcut,
  /** The budgets the usage counts toward, when its own transaction read them (PostgreSQL's fast path). */
  budgets?: ReadonlySet<BudgetId>
): Effect.Effect<void, never, SqlClient.SqlClient> => {
  const keys = new Map<ApiKeyId, UserId>()
  for (const { event } of appended) if (event._tag === "UsageRecorded") keys.set(event.keyId, event.userId)
  // Most commands record no usage: nothing to evaluate, no span either.
  if (keys.size === 0) return Effect.void
  return Effect.flatMap(DateTime.now, (at) =>
    Effect.withFiberRuntime<void, never, SqlClient.SqlClient>((fiber) => {
      const pending = (budgets: ReadonlySet<BudgetId>) =>
        commandsOf(budgets, keys, spikeFactor, at).filter(
          (command) => shortcut === undefined || !shortcut.decidesNothingNow(command, fiber.currentContext)
        )
      const run = (commands: ReadonlyArray<DomainCommand>) =>
        commands.length === 0 ? Effect.void : decideAll(dispatch, commands, metadata)
      const known = budgets ?? (shortcut === undefined ? undefined : touchingNow(shortcut, keys))
      return known !== undefined
        ? run(pending(known))
        : Effect.flatMap(touchingAll(keys), (budgets) => run(pending(budgets)))
    })
  )
}

/** The budgets the keys' usage counts toward, read now; undefined as soon as one cannot be. */
const touchingNow = (shortcut: Shortcut, keys: ReadonlyMap<ApiKeyId, UserId>) => {
  const budgets = new Set<BudgetId>()
  for (const [keyId, userId] of keys) {
    const ids = shortcut.touchingNow(userId, keyId)
    if (ids === undefined) return undefined
    for (const id of ids) budgets.add(id)
  }
  return budgets
}

const touchingAll = (keys: ReadonlyMap<ApiKeyId, UserId>) =>
  Effect.gen(function* () {
    const budgets = new Set<BudgetId>()
    for (const [keyId, userId] of keys) for (const id of yield* Budgets.touching(userId, keyId)) budgets.add(id)
    return budgets
  })

/** Every budget decided again, and each key's spike rule. */
const commandsOf = (
  budgets: ReadonlySet<BudgetId>,
  keys: ReadonlyMap<ApiKeyId, UserId>,
  spikeFactor: number,
  at: DateTime.Utc
): Array<DomainCommand> => {
  // Made of values already checked (ids of committed events, the clock's time): not validated again.
  const checked = { disableValidation: true }
  return [
    ...[...budgets].map((budgetId) => new BudgetCommands.EvaluateBudget({ budgetId, at }, checked)),
    ...[...keys.keys()].map((keyId) => new BudgetCommands.EvaluateSpike({ keyId, factor: spikeFactor, at }, checked))
  ]
}

const decideAll = (dispatch: Dispatch, commands: ReadonlyArray<DomainCommand>, metadata: EventMetadata) =>
  Effect.gen(function* () {
    const followUp: ExecuteOptions = { metadata: { ...metadata, actor: null } }
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
