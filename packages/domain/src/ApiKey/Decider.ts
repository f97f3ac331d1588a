import { type DateTime, Either, Match, Redacted } from "effect"
import {
  AlreadyExists,
  type CommandRejections,
  DuplicateKey,
  InvalidKeyFormat,
  InvalidLimit,
  InvalidName,
  KeyForbidden,
  KeyLimitReached,
  KeyNotFound,
  UserNotFound
} from "../Errors.js"
import type { ApiKeyId, UserId } from "../Ids.js"
import { Micros } from "../Money.js"
import type { UserState } from "../User/Decider.js"
import { KeyAttached, KeyDetached } from "../User/Events.js"
import type {
  AddKey,
  ApiKeyCommand,
  DeleteKey,
  EditKey,
  MarkKeyInvalid,
  RecordSyncFailure,
  SetKeyLimit
} from "./Commands.js"
import type { ApiKeyEvent, KeyStatus } from "./Events.js"
import {
  KeyActiveSet,
  KeyAdded,
  KeyDeleted,
  KeyLimitSet,
  KeyMarkedInvalid,
  KeyRenamed,
  KeySyncFailed
} from "./Events.js"

/** OpenRouter inference and management keys share this form. */
export const KEY_FORMAT = /^sk-or-v1-[0-9a-f]{64}$/

/** The masked form OpenRouter itself shows: `sk-or-v1-abc...xyz`. */
export const maskKey = (key: string): string => `sk-or-v1-${key.slice(9, 12)}...${key.slice(-3)}`

export type ApiKeyState =
  | { readonly _tag: "NotAdded" }
  | {
      readonly _tag: "Present"
      readonly keyId: ApiKeyId
      readonly userId: UserId
      readonly name: string
      readonly isActive: boolean
      readonly invalid: boolean
      readonly failing: boolean
      readonly status: KeyStatus | null
    }
  | { readonly _tag: "Deleted"; readonly keyId: ApiKeyId; readonly userId: UserId }

export const initialApiKeyState = (): ApiKeyState => ({ _tag: "NotAdded" })

export const evolveApiKey = (state: ApiKeyState, event: ApiKeyEvent): ApiKeyState => {
  // A deleted key stays deleted, whatever a corrupted or replayed log says.
  if (event._tag === "KeyAdded") {
    if (state._tag !== "NotAdded") return state
    return {
      _tag: "Present",
      keyId: event.keyId,
      userId: event.userId,
      name: event.name,
      isActive: true,
      invalid: false,
      failing: false,
      status: null
    }
  }
  if (state._tag !== "Present") return state
  return Match.value(event).pipe(
    Match.tagsExhaustive({
      // A new name does not make a key OpenRouter refused valid: only a re-activation re-arms it (issue 13).
      KeyRenamed: (e): ApiKeyState => ({ ...state, name: e.name }),
      KeyActiveSet: (e): ApiKeyState => ({ ...state, isActive: e.isActive, invalid: false, failing: false }),
      KeyDeleted: (e): ApiKeyState => ({ _tag: "Deleted", keyId: e.keyId, userId: e.userId }),
      // OpenRouter answered for the key, so it is valid (logs written when a rename re-armed a key say so).
      KeyStatusRecorded: (e): ApiKeyState => ({ ...state, status: e.status, failing: false, invalid: false }),
      KeyMarkedInvalid: (): ApiKeyState => ({ ...state, invalid: true }),
      KeySyncFailed: (): ApiKeyState => ({ ...state, failing: true }),
      // The status stays what `/key` last said: the next snapshot confirms the new limit.
      KeyLimitSet: (): ApiKeyState => state
    })
  )
}

/** Key commands decide on the key's stream and its owner's stream (the keyring). */
export interface ApiKeyContext {
  readonly user: UserState
  readonly key: ApiKeyState
}

type Present = Extract<ApiKeyState, { _tag: "Present" }>
/** The decision of one command, refused only with what {@link CommandRejections} lists for it. */
type Decision<C extends ApiKeyCommand["_tag"] = ApiKeyCommand["_tag"]> = Either.Either<
  ReadonlyArray<ApiKeyEvent | KeyAttached | KeyDetached>,
  CommandRejections[C]
>
export type ApiKeyDecideError =
  | AlreadyExists
  | DuplicateKey
  | InvalidKeyFormat
  | InvalidLimit
  | InvalidName
  | KeyForbidden
  | KeyLimitReached
  | KeyNotFound
  | UserNotFound

const none: Decision<never> = Either.right([])

/**
 * Control characters (NUL, tabs, newlines), format characters (bidi overrides such as U+202E, zero-width
 * spaces and joiners, the BOM) and line/paragraph separators: invisible or reordering text in a name would let
 * one key pass for another in a list, a log line or a terminal.
 */
const UNSAFE_IN_NAME = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u

/** Names are trimmed by the caller; 1 to 100 characters, none of them {@link UNSAFE_IN_NAME}. */
export const validName = (name: string): boolean =>
  name.trim().length >= 1 && name.length <= 100 && !UNSAFE_IN_NAME.test(name)

const present = (ctx: ApiKeyContext): Either.Either<Present, KeyNotFound> =>
  ctx.key._tag === "Present" ? Either.right(ctx.key) : Either.left(new KeyNotFound())

const owned = (ctx: ApiKeyContext, userId: UserId): Either.Either<Present, KeyNotFound | KeyForbidden> =>
  Either.flatMap(present(ctx), (key) => (key.userId === userId ? Either.right(key) : Either.left(new KeyForbidden())))

const addKey = (cmd: AddKey, ctx: ApiKeyContext): Decision<"AddKey"> => {
  if (ctx.key._tag !== "NotAdded") return Either.left(new AlreadyExists())
  if (ctx.user._tag !== "Registered" || ctx.user.userId !== cmd.userId) return Either.left(new UserNotFound())
  if (!validName(cmd.name)) return Either.left(new InvalidName())
  if (!KEY_FORMAT.test(Redacted.value(cmd.key))) return Either.left(new InvalidKeyFormat())
  // Decided on the keyring's stream: racing adds of one key conflict there, and the loser re-decides to this.
  if (ctx.user.keyHashes.some((h) => h.keyHash === cmd.keyHash)) return Either.left(new DuplicateKey())
  if (ctx.user.keyIds.length >= cmd.maxKeysPerUser) return Either.left(new KeyLimitReached({ max: cmd.maxKeysPerUser }))
  const { keyId, userId, name, label, keyHash, ciphertext, at } = cmd
  return Either.right([
    new KeyAdded({ keyId, userId, name, label, keyHash, ciphertext, at }),
    new KeyAttached({ userId, keyId, keyHash, at })
  ])
}

const rename = (
  key: Present,
  name: string,
  at: DateTime.Utc
): Either.Either<ReadonlyArray<KeyRenamed>, InvalidName> => {
  if (!validName(name)) return Either.left(new InvalidName())
  if (key.name === name) return Either.right([])
  return Either.right([new KeyRenamed({ keyId: key.keyId, userId: key.userId, name, at })])
}

const activate = (key: Present, isActive: boolean, at: DateTime.Utc): ReadonlyArray<KeyActiveSet> =>
  key.isActive === isActive && !key.invalid
    ? []
    : [new KeyActiveSet({ keyId: key.keyId, userId: key.userId, isActive, at })]

const editKey = (cmd: EditKey, ctx: ApiKeyContext): Decision<"EditKey"> =>
  Either.gen(function* () {
    const key = yield* owned(ctx, cmd.userId)
    const renamed = cmd.name === undefined ? [] : yield* rename(key, cmd.name, cmd.at)
    // The (de)activation decides on the renamed key, exactly as if the rename had been committed before it.
    const edited = yield* present({ ...ctx, key: renamed.reduce(evolveApiKey, ctx.key) })
    const activated = cmd.isActive === undefined ? [] : activate(edited, cmd.isActive, cmd.at)
    return [...renamed, ...activated]
  })

const deleteKey = (cmd: DeleteKey, ctx: ApiKeyContext): Decision<"DeleteKey"> =>
  Either.map(owned(ctx, cmd.userId), (key) => [
    new KeyDeleted({ keyId: key.keyId, userId: key.userId, at: cmd.at }),
    ...(ctx.user._tag === "Registered" ? [new KeyDetached({ userId: key.userId, keyId: key.keyId, at: cmd.at })] : [])
  ])

const markKeyInvalid = (cmd: MarkKeyInvalid, ctx: ApiKeyContext): Decision<"MarkKeyInvalid"> =>
  Either.flatMap(present(ctx), (key) =>
    key.invalid ? none : Either.right([new KeyMarkedInvalid({ keyId: key.keyId, userId: key.userId, at: cmd.at })])
  )

const recordSyncFailure = (cmd: RecordSyncFailure, ctx: ApiKeyContext): Decision<"RecordSyncFailure"> =>
  Either.flatMap(present(ctx), (key) =>
    key.failing
      ? none
      : Either.right([new KeySyncFailed({ keyId: key.keyId, userId: key.userId, error: cmd.error, at: cmd.at })])
  )

const setKeyLimit = (cmd: SetKeyLimit, ctx: ApiKeyContext): Decision<"SetKeyLimit"> =>
  Either.gen(function* () {
    const key = yield* owned(ctx, cmd.userId)
    if (cmd.limit !== null && (!Number.isSafeInteger(cmd.limit) || cmd.limit < 0))
      return yield* Either.left(new InvalidLimit())
    const limit = cmd.limit === null ? null : Micros.make(cmd.limit)
    return [
      new KeyLimitSet({
        keyId: key.keyId,
        userId: key.userId,
        limit,
        limitReset: cmd.limitReset,
        at: cmd.at
      })
    ]
  })

/**
 * Decides a key command; a deleted key accepts none (404). Each branch returns its command's `Decision`;
 * the generic overload passes that on to callers that name one command (the sync's snapshot).
 */
export function decideApiKey<C extends ApiKeyCommand>(cmd: C, ctx: ApiKeyContext): Decision<C["_tag"]>
// The plain signature last: what a caller that takes any key decider (the spec helper) infers from.
export function decideApiKey(cmd: ApiKeyCommand, ctx: ApiKeyContext): Decision
export function decideApiKey(cmd: ApiKeyCommand, ctx: ApiKeyContext): Decision {
  return Match.value(cmd).pipe(
    Match.tagsExhaustive({
      AddKey: (c) => addKey(c, ctx),
      EditKey: (c) => editKey(c, ctx),
      DeleteKey: (c) => deleteKey(c, ctx),
      MarkKeyInvalid: (c) => markKeyInvalid(c, ctx),
      RecordSyncFailure: (c) => recordSyncFailure(c, ctx),
      SetKeyLimit: (c) => setKeyLimit(c, ctx)
    })
  )
}
