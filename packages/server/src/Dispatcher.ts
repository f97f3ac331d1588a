import type { SqlClient } from "@effect/sql"
import {
  type ApiKeyState,
  type BudgetCommands,
  type BudgetContext,
  budgetSlot,
  type ConcurrencyConflict,
  type DomainCommand,
  type DomainError,
  type DomainEvent,
  decideApiKey,
  decideApiToken,
  decideBudget,
  decideReconcile,
  decideSpike,
  decideSync,
  decideUsage,
  decideUser,
  decideWebhook,
  evolveApiKey,
  evolveApiToken,
  evolveBaseline,
  evolveBudget,
  evolveBudgetSlot,
  evolveDiscrepancy,
  evolveEmail,
  evolveSpike,
  evolveUsage,
  evolveUser,
  evolveWebhook,
  initialApiKeyState,
  initialApiTokenState,
  initialBaseline,
  initialBudgetSlotState,
  initialBudgetState,
  initialDiscrepancyState,
  initialEmailState,
  initialSpikeState,
  initialUsageState,
  initialUserState,
  initialWebhookState,
  type RejectionOf,
  Streams,
  type SyncCommands,
  type SyncContext,
  type UserState,
  usageDecrease
} from "@orw/domain"
import { Effect, Either, Option } from "effect"
import { evaluateUsage, type Shortcut } from "./Alerting.js"
import type { Executed, ExecuteOptions, Load, Plan } from "./CommandHandler.js"
import { CommandHandler, decidePlan, plan } from "./CommandHandler.js"
import { AppConfig } from "./Config.js"
import { shredDataKeys } from "./Crypto/KeyVault.js"
import type { StoredEvent } from "./EventStore.js"
import * as Budgets from "./Projections/Budgets.js"
import { SqliteHandle } from "./SqliteClient.js"

const loadUser = (load: Load, userId: string | null) =>
  userId === null
    ? Effect.succeed<UserState>(initialUserState())
    : load(Streams.user(userId), initialUserState, evolveUser)

const loadKey = (load: Load, keyId: string) => load(Streams.key(keyId), initialApiKeyState, evolveApiKey)

/**
 * How a decision's independent reads run: at once on PostgreSQL (on several connections, one round trip
 * instead of several); one after the other on SQLite, whose reads are synchronous steps on its one
 * connection (or no read at all, from the state cache): a fiber each would only cost.
 */
type Together = { readonly concurrency?: "unbounded" }

/** The streams of a key and its usage totals, as a plan reads them. */
const usageReads = (keyId: string) =>
  [
    { streamId: Streams.key(keyId), initial: initialApiKeyState, evolve: evolveApiKey },
    { streamId: Streams.usage(keyId), initial: initialUsageState, evolve: evolveUsage }
  ] as const

/**
 * The commands that are decided as a {@link Plan}: their reads known up front, their decision a function of
 * the states, their events needing no extra write (the commands of every usage sync and its spike check).
 */
const planOf = (command: DomainCommand): Plan<DomainError> | undefined => {
  switch (command._tag) {
    case "RecordUsage":
      // On PostgreSQL's fast path, the budgets the usage counts toward are read in its own transaction.
      return plan(
        usageReads(command.keyId),
        ([key, usage]) => decideUsage(command, { key, usage }),
        (events) => {
          const recorded = events.find((event) => event._tag === "UsageRecorded")
          return recorded === undefined ? undefined : Budgets.touchingPg(recorded.userId, recorded.keyId)
        }
      )
    case "EvaluateSpike":
      return plan(
        [
          ...usageReads(command.keyId),
          { streamId: Streams.spike(command.keyId), initial: initialSpikeState, evolve: evolveSpike }
        ],
        ([key, usage, spike]) => decideSpike(command, { key, usage: { keyId: command.keyId, usage }, spike })
      )
    default:
      return undefined
  }
}

/** A key and its usage totals: what usage and sync commands decide on, both streams read in one decision. */
const loadUsage = (load: Load, keyId: string, together: Together) =>
  Effect.all({ key: loadKey(load, keyId), usage: load(Streams.usage(keyId), initialUsageState, evolveUsage) }, together)

/** The decider ignores a lower all-time usage than before; openrouter-api.md wants it logged. */
const logDecrease = (command: SyncCommands.RecordKeySnapshot, ctx: SyncContext) =>
  Option.match(usageDecrease(command, ctx), {
    onNone: () => Effect.void,
    onSome: ({ previous, current }) =>
      Effect.logWarning("OpenRouter reported a lower all-time usage than before; ignored").pipe(
        Effect.annotateLogs({ keyId: command.keyId, previousMicros: previous, currentMicros: current })
      )
  })

type Outcome = Either.Either<ReadonlyArray<DomainEvent>, DomainError>

const ownerOf = (key: ApiKeyState, command: { readonly userId?: string }) =>
  key._tag === "NotAdded" ? (command.userId ?? null) : key.userId

/**
 * Routes any domain command to its decider: which streams it reads, how they fold, and
 * what it decides. Every entry point (HTTP, RPC, CLI, sync) goes through here.
 */
export class Dispatcher extends Effect.Service<Dispatcher>()("orw/Dispatcher", {
  effect: Effect.gen(function* () {
    const handler = yield* CommandHandler
    // SPIKE_FACTOR from AppConfig where the composition root gives it (the server); 3 for bare cores (tests, CLI).
    const spikeFactor = Option.match(yield* Effect.serviceOption(AppConfig), {
      onNone: () => 3,
      onSome: (config) => config.spikeFactor
    })

    const sqlite = yield* Effect.serviceOption(SqliteHandle)
    const together: Together = Option.isSome(sqlite) ? {} : { concurrency: "unbounded" }

    const decideWith = (command: DomainCommand, load: Load): Effect.Effect<Outcome> => {
      switch (command._tag) {
        case "RegisterUser":
          return Effect.all({
            user: loadUser(load, command.userId),
            email: load(Streams.email(command.email), initialEmailState, evolveEmail)
          }).pipe(Effect.map((ctx) => decideUser(command, ctx)))
        case "ChangePassword":
        case "DeleteUser":
          return decideUserCommand(load, command)
        case "RecordUsage":
        case "EvaluateSpike":
          return decidePlan(planOf(command)!, load, together)
        case "RecordKeySnapshot":
          return loadUsage(load, command.keyId, together).pipe(
            Effect.tap((ctx) => logDecrease(command, ctx)),
            Effect.map((ctx) => decideSync(command, ctx))
          )
        case "RecordActivity":
          return Effect.map(loadUsage(load, command.keyId, together), (ctx) => decideSync(command, ctx))
        case "ReconcileUsage":
          return Effect.map(
            Effect.all({
              key: loadKey(load, command.keyId),
              usage: load(Streams.usage(command.keyId), initialUsageState, evolveUsage),
              baseline: load(Streams.key(command.keyId), initialBaseline, evolveBaseline),
              discrepancies: load(Streams.discrepancies(command.keyId), initialDiscrepancyState, evolveDiscrepancy)
            }),
            (ctx) => decideReconcile(command, ctx)
          )
        case "IssueToken":
        case "RevokeToken":
          return decideTokenCommand(load, command)
        case "CreateBudget":
        case "ChangeBudget":
        case "DeleteBudget":
        case "EvaluateBudget":
          return Effect.map(loadBudget(load, command), (ctx) => decideBudget(command, ctx))
        case "AddWebhook":
        case "DeleteWebhook":
          return Effect.map(
            Effect.all({
              webhook: load(Streams.webhook(command.webhookId), initialWebhookState, evolveWebhook),
              user: loadUser(load, command.userId)
            }),
            (ctx) => decideWebhook(command, ctx)
          )
        default:
          return Effect.gen(function* () {
            const key = yield* loadKey(load, command.keyId)
            const user = yield* loadUser(load, ownerOf(key, command as { readonly userId?: string }))
            return decideApiKey(command, { user, key })
          })
      }
    }

    const decide = (command: DomainCommand) => (load: Load) =>
      Effect.flatMap(decideWith(command, load), (outcome) =>
        Either.match(outcome, {
          onLeft: (error) => Effect.fail(error),
          onRight: (events) => Effect.succeed({ events, result: events })
        })
      )

    /**
     * Decides and appends one command; the result is what it appended (nothing when nothing changed). It
     * fails with the command's own rejections ({@link RejectionOf}) or a conflict that outlived the retries.
     */
    const dispatch = <C extends DomainCommand>(
      command: C,
      options: ExecuteOptions
    ): Effect.Effect<ReadonlyArray<StoredEvent>, RejectionOf<C> | ConcurrencyConflict, SqlClient.SqlClient> =>
      Effect.flatMap(dispatchExecuted(command, options), ({ events, alsoRead }) =>
        Effect.as(
          evaluateUsage(
            dispatchOnly,
            events,
            options.metadata,
            spikeFactor,
            shortcut,
            alsoRead === undefined ? undefined : new Set(Budgets.touchingOf(alsoRead))
          ),
          events
        )
      )

    // SQLite: a key's budgets read synchronously when no transaction is open on the connection (none can
    // begin during the read), and follow-ups decided from the state cache when their streams are current there.
    // PostgreSQL: the spike rule only, decided from the cache right after the usage committed. Its streams
    // there are the key's (checked at that commit), its usage (claimed at that commit: as committed then, and
    // whoever appends to it later checks the rule on what they committed) and its spike state, which may be
    // behind; a later spike state only adds "fired today", which decides nothing too. A budget's rule sums
    // the usage of other keys, which another instance may have recorded unseen here: it is always dispatched.
    const shortcut: Shortcut = Option.match(sqlite, {
      onNone: (): Shortcut => ({
        touchingNow: () => undefined,
        decidesNothingNow: (command, context) =>
          command._tag === "EvaluateSpike" && handler.decidesNothingNow(planOf(command)!, context)
      }),
      onSome: (handle): Shortcut => ({
        touchingNow: (userId, keyId) =>
          handle.db.inTransaction ? undefined : Budgets.touchingOn(handle.prepare, userId, keyId),
        decidesNothingNow: (command, context) => {
          const planned = planOf(command)
          return planned !== undefined && handler.decidesNothingNow(planned, context)
        }
      })
    })

    const dispatchOnly = <C extends DomainCommand>(
      command: C,
      options: ExecuteOptions
    ): Effect.Effect<ReadonlyArray<StoredEvent>, RejectionOf<C> | ConcurrencyConflict, SqlClient.SqlClient> =>
      Effect.map(dispatchExecuted(command, options), (executed) => executed.events)

    /** {@link dispatchOnly}, with what a plan read in its append's transaction (see Plan.alsoRead). */
    const dispatchExecuted = <C extends DomainCommand>(
      command: C,
      options: ExecuteOptions
    ): Effect.Effect<Executed<unknown>, RejectionOf<C> | ConcurrencyConflict, SqlClient.SqlClient> => {
      const planned = options.inTransaction === undefined ? planOf(command) : undefined
      if (planned !== undefined) {
        return handler.executePlan(planned, decide(command), options) as Effect.Effect<
          Executed<unknown>,
          RejectionOf<C> | ConcurrencyConflict,
          SqlClient.SqlClient
        >
      }
      return handler
        .execute(decide(command), {
          ...options,
          inTransaction: (appended) =>
            Effect.zipRight(
              shredDataKeys(appended),
              options.inTransaction ? options.inTransaction(appended) : Effect.void
            )
        })
        .pipe(
          // `decideWith` routes each command to the decider function typed with CommandRejections[its tag]; the
          // switch can't carry that to the generic `C`, so this says it once, here.
          Effect.mapError((error) => error as RejectionOf<C> | ConcurrencyConflict)
        )
    }

    return { dispatch } as const
  }),
  dependencies: [CommandHandler.Default]
}) {}

const decideUserCommand = (load: Load, c: Extract<DomainCommand, { _tag: "ChangePassword" | "DeleteUser" }>) =>
  Effect.gen(function* () {
    const user = yield* loadUser(load, c.userId)
    const email =
      user._tag === "Registered"
        ? yield* load(Streams.email(user.email), initialEmailState, evolveEmail)
        : initialEmailState()
    return decideUser(c, { user, email })
  })

const decideTokenCommand = (load: Load, c: Extract<DomainCommand, { _tag: "IssueToken" | "RevokeToken" }>) =>
  Effect.gen(function* () {
    const token = yield* load(Streams.token(c.tokenId), initialApiTokenState, evolveApiToken)
    const user = yield* loadUser(load, c.userId)
    return decideApiToken(c, { user, token })
  })

/**
 * A budget command's context: the budget, its slot, its owner and key, and the usage streams of the keys it
 * covers (one key, or every key on the owner's keyring: deleted keys count no more, as in /api/v1/stats).
 */
const loadBudget = (
  load: Load,
  c:
    | BudgetCommands.CreateBudget
    | BudgetCommands.ChangeBudget
    | BudgetCommands.DeleteBudget
    | BudgetCommands.EvaluateBudget
): Effect.Effect<BudgetContext> =>
  Effect.gen(function* () {
    const budget = yield* load(Streams.budget(c.budgetId), initialBudgetState, evolveBudget)
    const spec =
      c._tag === "CreateBudget"
        ? { userId: c.userId, scope: c.scope, keyId: c.keyId, period: c.period }
        : budget._tag === "Active"
          ? budget
          : null
    if (spec === null) {
      return { budget, slot: initialBudgetSlotState(), user: initialUserState(), key: null, usage: [] }
    }
    const slot =
      c._tag === "CreateBudget" || c._tag === "DeleteBudget"
        ? yield* load(
            Streams.budgetSlot(budgetSlot(spec.userId, spec.scope, spec.keyId, spec.period)),
            initialBudgetSlotState,
            evolveBudgetSlot
          )
        : initialBudgetSlotState()
    if (c._tag === "DeleteBudget") return { budget, slot, user: initialUserState(), key: null, usage: [] }
    const user = yield* loadUser(load, spec.userId)
    const key = spec.keyId === null ? null : yield* loadKey(load, spec.keyId)
    const keyIds =
      spec.scope === "key"
        ? key !== null && key._tag === "Present" && key.userId === spec.userId
          ? [key.keyId]
          : []
        : user._tag === "Registered"
          ? user.keyIds
          : []
    const usage = yield* Effect.forEach(keyIds, (keyId) =>
      Effect.map(load(Streams.usage(keyId), initialUsageState, evolveUsage), (usage) => ({ keyId, usage }))
    )
    return { budget, slot, user, key, usage }
  })
