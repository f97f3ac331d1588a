import type { SqlClient } from "@effect/sql"
import {
  type ApiKeyState,
  type ConcurrencyConflict,
  type DomainCommand,
  type DomainError,
  type DomainEvent,
  decideApiKey,
  decideApiToken,
  decideSync,
  decideUsage,
  decideUser,
  evolveApiKey,
  evolveApiToken,
  evolveEmail,
  evolveUsage,
  evolveUser,
  initialApiKeyState,
  initialApiTokenState,
  initialEmailState,
  initialUsageState,
  initialUserState,
  type RejectionOf,
  Streams,
  type SyncCommands,
  type SyncContext,
  type UserState,
  usageDecrease
} from "@orw/domain"
import { Effect, Either, Option } from "effect"
import type { ExecuteOptions, Load } from "./CommandHandler.js"
import { CommandHandler } from "./CommandHandler.js"
import { shredDataKeys } from "./Crypto/KeyVault.js"
import type { StoredEvent } from "./EventStore.js"

const loadUser = (load: Load, userId: string | null) =>
  userId === null
    ? Effect.succeed<UserState>(initialUserState())
    : load(Streams.user(userId), initialUserState, evolveUser)

const loadKey = (load: Load, keyId: string) => load(Streams.key(keyId), initialApiKeyState, evolveApiKey)

/** A key and its usage totals: what usage and sync commands decide on, both streams read in one decision. */
const loadUsage = (load: Load, keyId: string) =>
  Effect.all({ key: loadKey(load, keyId), usage: load(Streams.usage(keyId), initialUsageState, evolveUsage) })

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
          return Effect.map(loadUsage(load, command.keyId), (ctx) => decideUsage(command, ctx))
        case "RecordKeySnapshot":
          return loadUsage(load, command.keyId).pipe(
            Effect.tap((ctx) => logDecrease(command, ctx)),
            Effect.map((ctx) => decideSync(command, ctx))
          )
        case "RecordActivity":
          return Effect.map(loadUsage(load, command.keyId), (ctx) => decideSync(command, ctx))
        case "IssueToken":
        case "RevokeToken":
          return decideTokenCommand(load, command)
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
      Effect.map(
        handler.execute(decide(command), {
          ...options,
          inTransaction: (appended) =>
            Effect.zipRight(
              shredDataKeys(appended),
              options.inTransaction ? options.inTransaction(appended) : Effect.void
            )
        }),
        (executed) => executed.events
      ).pipe(
        // `decideWith` routes each command to the decider function typed with CommandRejections[its tag]; the
        // switch can't carry that to the generic `C`, so this says it once, here.
        Effect.mapError((error) => error as RejectionOf<C> | ConcurrencyConflict)
      )

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
