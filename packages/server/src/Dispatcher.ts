import { SqlClient } from "@effect/sql"
import {
  type ApiKeyState,
  type DomainCommand,
  type DomainError,
  type DomainEvent,
  decideApiKey,
  decideApiToken,
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
  Streams,
  type UserState
} from "@orw/domain"
import { Effect, Either } from "effect"
import type { ExecuteOptions, Load } from "./CommandHandler.js"
import { CommandHandler } from "./CommandHandler.js"
import type { StoredEvent } from "./EventStore.js"

const loadUser = (load: Load, userId: string | null) =>
  userId === null
    ? Effect.succeed<UserState>(initialUserState())
    : load(Streams.user(userId), initialUserState, evolveUser)

const loadKey = (load: Load, keyId: string) => load(Streams.key(keyId), initialApiKeyState, evolveApiKey)

type Outcome = Either.Either<ReadonlyArray<DomainEvent>, DomainError>

const ownerOf = (key: ApiKeyState, command: { readonly userId?: string }) =>
  key._tag === "NotAdded" ? (command.userId ?? null) : key.userId

/**
 * Deleting a key, or its owner, destroys the key's data key in the same transaction:
 * the ciphertext the log keeps can no longer be opened (crypto-shredding).
 */
const shredDataKeys = (appended: ReadonlyArray<StoredEvent>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(
      appended,
      ({ event }) =>
        event._tag === "KeyDeleted"
          ? Effect.asVoid(sql`DELETE FROM key_vault WHERE key_id = ${event.keyId}`)
          : event._tag === "UserDeleted"
            ? Effect.asVoid(sql`DELETE FROM key_vault WHERE user_id = ${event.userId}`)
            : Effect.void,
      { discard: true }
    )
  )

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
          return Effect.all({
            key: loadKey(load, command.keyId),
            usage: load(Streams.usage(command.keyId), initialUsageState, evolveUsage)
          }).pipe(Effect.map((ctx) => decideUsage(command, ctx)))
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

    /** Decides and appends one command; the result is what it appended (nothing when nothing changed). */
    const dispatch = (command: DomainCommand, options: ExecuteOptions) =>
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
