import { Schema } from "effect"
import { ApiKeyId, UserId } from "../Ids.js"
import { Micros, NonNegativeMicros } from "../Money.js"

/**
 * A key was stored. `ciphertext` is the key sealed with its own data key (AES-256-GCM,
 * key id and user id as associated data); the data key lives outside the log so that
 * deleting the key shreds it. `keyHash` is the SHA-256 hex OpenRouter uses to name keys.
 */
export class KeyAdded extends Schema.TaggedClass<KeyAdded>()("KeyAdded", {
  keyId: ApiKeyId,
  userId: UserId,
  name: Schema.String,
  label: Schema.String,
  keyHash: Schema.String,
  ciphertext: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class KeyRenamed extends Schema.TaggedClass<KeyRenamed>()("KeyRenamed", {
  keyId: ApiKeyId,
  userId: UserId,
  name: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class KeyActiveSet extends Schema.TaggedClass<KeyActiveSet>()("KeyActiveSet", {
  keyId: ApiKeyId,
  userId: UserId,
  isActive: Schema.Boolean,
  at: Schema.DateTimeUtc
}) {}

export class KeyDeleted extends Schema.TaggedClass<KeyDeleted>()("KeyDeleted", {
  keyId: ApiKeyId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

/** What OpenRouter's `GET /key` said, money in micro-dollars; null limit = unlimited. */
export const KeyStatus = Schema.Struct({
  label: Schema.String,
  limit: Schema.NullOr(Micros),
  limitRemaining: Schema.NullOr(Micros),
  limitReset: Schema.NullOr(Schema.String),
  usage: NonNegativeMicros,
  usageDaily: NonNegativeMicros,
  usageWeekly: NonNegativeMicros,
  usageMonthly: NonNegativeMicros,
  isManagementKey: Schema.Boolean,
  expiresAt: Schema.NullOr(Schema.String)
})
export type KeyStatus = typeof KeyStatus.Type

export class KeyStatusRecorded extends Schema.TaggedClass<KeyStatusRecorded>()("KeyStatusRecorded", {
  keyId: ApiKeyId,
  userId: UserId,
  status: KeyStatus,
  at: Schema.DateTimeUtc
}) {}

/** Upstream answered 401: the key is not polled again until the user edits or re-activates it. */
export class KeyMarkedInvalid extends Schema.TaggedClass<KeyMarkedInvalid>()("KeyMarkedInvalid", {
  keyId: ApiKeyId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

/** One per failure streak: the sync gave up after its retries. */
export class KeySyncFailed extends Schema.TaggedClass<KeySyncFailed>()("KeySyncFailed", {
  keyId: ApiKeyId,
  userId: UserId,
  error: Schema.String,
  at: Schema.DateTimeUtc
}) {}

/** The user set the key's OpenRouter limit from here and OpenRouter accepted it (micro-dollars; null = none). */
export class KeyLimitSet extends Schema.TaggedClass<KeyLimitSet>()("KeyLimitSet", {
  keyId: ApiKeyId,
  userId: UserId,
  limit: Schema.NullOr(NonNegativeMicros),
  limitReset: Schema.NullOr(Schema.Literal("daily", "weekly", "monthly")),
  at: Schema.DateTimeUtc
}) {}

export const ApiKeyEvent = Schema.Union(
  KeyAdded,
  KeyRenamed,
  KeyActiveSet,
  KeyDeleted,
  KeyStatusRecorded,
  KeyMarkedInvalid,
  KeySyncFailed,
  KeyLimitSet
)
export type ApiKeyEvent = typeof ApiKeyEvent.Type
