import { Schema } from "effect"
import { ApiKeyId, UserId } from "../Ids.js"

/**
 * `key` is the plaintext, only so the decider can check its format; it never reaches an
 * event. The caller seals it beforehand (`ciphertext`) and derives `label` and `keyHash`.
 */
export class AddKey extends Schema.TaggedClass<AddKey>()("AddKey", {
  keyId: ApiKeyId,
  userId: UserId,
  name: Schema.String,
  key: Schema.Redacted(Schema.String),
  label: Schema.String,
  keyHash: Schema.String,
  ciphertext: Schema.String,
  maxKeysPerUser: Schema.Int,
  at: Schema.DateTimeUtc
}) {}

/**
 * One edit of a key by its owner: a new `name` (trimmed by the caller), switching it on or off
 * (`isActive`), or both. Both parts are one decision, so they commit together or not at all; a field
 * left out is left as it is.
 */
export class EditKey extends Schema.TaggedClass<EditKey>()("EditKey", {
  keyId: ApiKeyId,
  userId: UserId,
  name: Schema.optional(Schema.String),
  isActive: Schema.optional(Schema.Boolean),
  at: Schema.DateTimeUtc
}) {}

export class DeleteKey extends Schema.TaggedClass<DeleteKey>()("DeleteKey", {
  keyId: ApiKeyId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export class MarkKeyInvalid extends Schema.TaggedClass<MarkKeyInvalid>()("MarkKeyInvalid", {
  keyId: ApiKeyId,
  at: Schema.DateTimeUtc
}) {}

export class RecordSyncFailure extends Schema.TaggedClass<RecordSyncFailure>()("RecordSyncFailure", {
  keyId: ApiKeyId,
  error: Schema.String,
  at: Schema.DateTimeUtc
}) {}

/** Reset periods of an OpenRouter key limit; null = the limit never resets. */
export const LimitReset = Schema.NullOr(Schema.Literal("daily", "weekly", "monthly"))
export type LimitReset = typeof LimitReset.Type

/**
 * OpenRouter accepted a new limit for the key (`PATCH /keys/{hash}` through a management key): recorded
 * as the user's change; the next `/key` snapshot confirms it. `limit` in micro-dollars, null = no limit.
 */
export class SetKeyLimit extends Schema.TaggedClass<SetKeyLimit>()("SetKeyLimit", {
  keyId: ApiKeyId,
  userId: UserId,
  limit: Schema.NullOr(Schema.Number),
  limitReset: LimitReset,
  at: Schema.DateTimeUtc
}) {}

export const ApiKeyCommand = Schema.Union(AddKey, EditKey, DeleteKey, MarkKeyInvalid, RecordSyncFailure, SetKeyLimit)
export type ApiKeyCommand = typeof ApiKeyCommand.Type
