import { Schema } from "effect"

/**
 * Domain rejections. Each carries the HTTP status the contract gives it and the
 * `detail` clients see, so every entry point (HTTP, RPC, CLI) answers alike.
 */
export class EmailAlreadyRegistered extends Schema.TaggedError<EmailAlreadyRegistered>()("EmailAlreadyRegistered", {}) {
  readonly status = 400
  override get message() {
    return "Email already registered"
  }
}

export class InvalidEmail extends Schema.TaggedError<InvalidEmail>()("InvalidEmail", {}) {
  readonly status = 400
  override get message() {
    return "Invalid email address"
  }
}

export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", {}) {
  readonly status = 404
  override get message() {
    return "User not found"
  }
}

export class InvalidKeyFormat extends Schema.TaggedError<InvalidKeyFormat>()("InvalidKeyFormat", {}) {
  readonly status = 400
  override get message() {
    return "Invalid API key format"
  }
}

export class KeyLimitReached extends Schema.TaggedError<KeyLimitReached>()("KeyLimitReached", {
  max: Schema.Int
}) {
  readonly status = 400
  override get message() {
    return `Maximum number of API keys reached (${this.max})`
  }
}

export class InvalidName extends Schema.TaggedError<InvalidName>()("InvalidName", {}) {
  readonly status = 400
  override get message() {
    return "Name must be 1 to 100 characters"
  }
}

export class KeyNotFound extends Schema.TaggedError<KeyNotFound>()("KeyNotFound", {}) {
  readonly status = 404
  override get message() {
    return "API key not found"
  }
}

export class KeyForbidden extends Schema.TaggedError<KeyForbidden>()("KeyForbidden", {}) {
  readonly status = 403
  override get message() {
    return "Not allowed to access this API key"
  }
}

/** A sync of a key its owner switched off: it does not run (see `isSyncable`). */
export class KeyInactive extends Schema.TaggedError<KeyInactive>()("KeyInactive", {}) {
  readonly status = 400
  override get message() {
    return "API key is inactive: activate it to sync"
  }
}

export class TokenNotFound extends Schema.TaggedError<TokenNotFound>()("TokenNotFound", {}) {
  readonly status = 404
  override get message() {
    return "API token not found"
  }
}

export class TokenForbidden extends Schema.TaggedError<TokenForbidden>()("TokenForbidden", {}) {
  readonly status = 403
  override get message() {
    return "Not allowed to access this API token"
  }
}

export class InvalidUsage extends Schema.TaggedError<InvalidUsage>()("InvalidUsage", {
  reason: Schema.String
}) {
  readonly status = 400
  override get message() {
    return `Invalid usage: ${this.reason}`
  }
}

/** A command named an id that already has a history (ids are minted by the server). */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", {}) {
  readonly status = 409
  override get message() {
    return "Resource already exists"
  }
}

export const DomainError = Schema.Union(
  EmailAlreadyRegistered,
  InvalidEmail,
  UserNotFound,
  InvalidKeyFormat,
  KeyLimitReached,
  InvalidName,
  KeyNotFound,
  KeyForbidden,
  KeyInactive,
  TokenNotFound,
  TokenForbidden,
  InvalidUsage,
  AlreadyExists
)
export type DomainError = typeof DomainError.Type
