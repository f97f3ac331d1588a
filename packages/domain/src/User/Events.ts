import { Schema } from "effect"
import { ApiKeyId, UserId } from "../Ids.js"

/** A new account; the password arrives already hashed (argon2id). */
export class UserRegistered extends Schema.TaggedClass<UserRegistered>()("UserRegistered", {
  userId: UserId,
  email: Schema.String,
  passwordHash: Schema.String,
  at: Schema.DateTimeUtc
}) {}

/** Sessions issued before `at` stop working. */
export class PasswordChanged extends Schema.TaggedClass<PasswordChanged>()("PasswordChanged", {
  userId: UserId,
  passwordHash: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class UserDeleted extends Schema.TaggedClass<UserDeleted>()("UserDeleted", {
  userId: UserId,
  email: Schema.String,
  at: Schema.DateTimeUtc
}) {}

/**
 * The user's keyring gained a key: the user stream is the boundary of the key limit and of "one OpenRouter
 * key once per user" (`keyHash`, the key's SHA-256; absent on events written before it existed, which
 * decode as they were: an optional field, no upcast needed).
 */
export class KeyAttached extends Schema.TaggedClass<KeyAttached>()("KeyAttached", {
  userId: UserId,
  keyId: ApiKeyId,
  keyHash: Schema.optional(Schema.String),
  at: Schema.DateTimeUtc
}) {}

export class KeyDetached extends Schema.TaggedClass<KeyDetached>()("KeyDetached", {
  userId: UserId,
  keyId: ApiKeyId,
  at: Schema.DateTimeUtc
}) {}

/** An email address was taken by a user; one stream per normalized address enforces uniqueness. */
export class EmailClaimed extends Schema.TaggedClass<EmailClaimed>()("EmailClaimed", {
  email: Schema.String,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export class EmailReleased extends Schema.TaggedClass<EmailReleased>()("EmailReleased", {
  email: Schema.String,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export const UserEvent = Schema.Union(UserRegistered, PasswordChanged, UserDeleted, KeyAttached, KeyDetached)
export type UserEvent = typeof UserEvent.Type

export const EmailEvent = Schema.Union(EmailClaimed, EmailReleased)
export type EmailEvent = typeof EmailEvent.Type
