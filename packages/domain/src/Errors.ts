import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/*
 * Why a command or a request was refused: one class per rejection, for every entry point. Each is a
 * Schema.TaggedError, so the RPC carries its `_tag` and the web client can `Effect.catchTag` it by
 * name; its HTTP status is an HttpApiSchema annotation, read by the HttpApi endpoints that declare it
 * (on the JSON API the body is only `{"detail"}`: see `Api/Errors.ts`); `detail` is the text clients
 * see (design.md section 3), and the `message` of the error.
 */

/**
 * A `detail` that is always the same text: the constructor fills it in, and so does decoding when it is
 * missing (which is how the JSON API's reader recognises the rejection by its text, see `Api/Errors.ts`).
 */
const fixed = (text: string) => Schema.optionalWith(Schema.String, { default: () => text })

/** The status (and a description for the OpenAPI document) of a rejection. */
const http = <A>(status: number, description: string) => HttpApiSchema.annotations<A>({ status, description })

/** The HTTP status an error's class is annotated with; 500 for anything else (a defect). */
export const statusOf = (error: object): number => {
  const errorClass: unknown = error.constructor
  return Schema.isSchema(errorClass) ? HttpApiSchema.getStatusError(errorClass) : 500
}

// --- Accounts

export class EmailAlreadyRegistered extends Schema.TaggedError<EmailAlreadyRegistered>()(
  "EmailAlreadyRegistered",
  { detail: fixed("Email already registered") },
  http(400, "The email belongs to an account already")
) {
  override get message() {
    return this.detail
  }
}

export class InvalidEmail extends Schema.TaggedError<InvalidEmail>()(
  "InvalidEmail",
  { detail: fixed("Invalid email address") },
  http(400, "Not an email address")
) {
  override get message() {
    return this.detail
  }
}

/** The user is gone (deleted meanwhile), or a command named one that never was. */
export class UserNotFound extends Schema.TaggedError<UserNotFound>()(
  "UserNotFound",
  { detail: fixed("User not found") },
  http(404, "No such user")
) {
  override get message() {
    return this.detail
  }
}

/** Login with an unknown email or a wrong password: the same answer for both. */
export class InvalidCredentials extends Schema.TaggedError<InvalidCredentials>()(
  "InvalidCredentials",
  { detail: fixed("Invalid credentials") },
  http(401, "Unknown email or wrong password")
) {
  override get message() {
    return this.detail
  }
}

/** A password change whose current password is wrong. */
export class CurrentPasswordIncorrect extends Schema.TaggedError<CurrentPasswordIncorrect>()(
  "CurrentPasswordIncorrect",
  { detail: fixed("Current password is incorrect") },
  http(400, "The current password is wrong")
) {
  override get message() {
    return this.detail
  }
}

/** An action the password confirms (deleting the account) with a wrong password. */
export class PasswordIncorrect extends Schema.TaggedError<PasswordIncorrect>()(
  "PasswordIncorrect",
  { detail: fixed("Password is incorrect") },
  http(400, "The password is wrong")
) {
  override get message() {
    return this.detail
  }
}

// --- Keys

export class InvalidKeyFormat extends Schema.TaggedError<InvalidKeyFormat>()(
  "InvalidKeyFormat",
  { detail: fixed("Invalid API key format") },
  http(400, "Not an OpenRouter key (sk-or-v1- and 64 hex digits)")
) {
  override get message() {
    return this.detail
  }
}

/** MAX_API_KEYS_PER_USER reached; inactive and invalid keys count, deleted ones do not. */
export class KeyLimitReached extends Schema.TaggedError<KeyLimitReached>()(
  "KeyLimitReached",
  { max: Schema.Int, detail: Schema.String },
  http(400, "The user has as many keys as allowed")
) {
  // The detail follows from `max`: callers give the limit only (decoding gives both; the text is recomputed).
  constructor(props: { readonly max: number; readonly detail?: string }, options?: Schema.MakeOptions) {
    super({ max: props.max, detail: `Maximum number of API keys reached (${props.max})` }, options)
  }
  override get message() {
    return this.detail
  }
}

/**
 * The user already stores this OpenRouter key (compared by its SHA-256), under whatever name: a second copy
 * would count its spend twice. Another user may store the same key; figures are per user.
 */
export class DuplicateKey extends Schema.TaggedError<DuplicateKey>()(
  "DuplicateKey",
  { detail: fixed("This OpenRouter key is already stored in your account") },
  http(400, "The same OpenRouter key is already stored by this user")
) {
  override get message() {
    return this.detail
  }
}

/** Writing to OpenRouter (a key's limit) needs one of the user's management keys, switched on and valid. */
export class ManagementKeyRequired extends Schema.TaggedError<ManagementKeyRequired>()(
  "ManagementKeyRequired",
  { detail: fixed("Add an active OpenRouter management key to change limits from here") },
  http(400, "The user has no usable management key")
) {
  override get message() {
    return this.detail
  }
}

/** A key's limit must be a non-negative USD amount (or null: no limit) with a known reset period. */
export class InvalidLimit extends Schema.TaggedError<InvalidLimit>()(
  "InvalidLimit",
  { detail: fixed("limit must be null or a non-negative amount; limit_reset null, daily, weekly or monthly") },
  http(400, "Not a limit OpenRouter accepts")
) {
  override get message() {
    return this.detail
  }
}

/** OpenRouter refused or failed a write (its status and message in `detail`, never a secret). */
export class UpstreamRefused extends Schema.TaggedError<UpstreamRefused>()(
  "UpstreamRefused",
  { detail: Schema.String },
  http(502, "OpenRouter refused or failed the change")
) {
  override get message() {
    return this.detail
  }
}

/** Key and token names: 1 to 100 characters after trimming. */
export class InvalidName extends Schema.TaggedError<InvalidName>()(
  "InvalidName",
  { detail: fixed("Name must be 1 to 100 characters") },
  http(400, "A name of 1 to 100 characters is required")
) {
  override get message() {
    return this.detail
  }
}

export class KeyNotFound extends Schema.TaggedError<KeyNotFound>()(
  "KeyNotFound",
  { detail: fixed("API key not found") },
  http(404, "No such key")
) {
  override get message() {
    return this.detail
  }
}

export class KeyForbidden extends Schema.TaggedError<KeyForbidden>()(
  "KeyForbidden",
  { detail: fixed("Not allowed to access this API key") },
  http(403, "Another user's key")
) {
  override get message() {
    return this.detail
  }
}

/** A sync of a key its owner switched off: it does not run (see `isSyncable`). */
export class KeyInactive extends Schema.TaggedError<KeyInactive>()(
  "KeyInactive",
  { detail: fixed("API key is inactive: activate it to sync") },
  http(400, "The key is switched off: activate it to sync")
) {
  override get message() {
    return this.detail
  }
}

// --- Tokens

/** Unknown or already revoked (design.md: revoking twice is a 404). */
export class TokenNotFound extends Schema.TaggedError<TokenNotFound>()(
  "TokenNotFound",
  { detail: fixed("API token not found") },
  http(404, "No such active token")
) {
  override get message() {
    return this.detail
  }
}

export class TokenForbidden extends Schema.TaggedError<TokenForbidden>()(
  "TokenForbidden",
  { detail: fixed("Not allowed to access this API token") },
  http(403, "Another user's token")
) {
  override get message() {
    return this.detail
  }
}

// --- Idempotency

/** A key was already stored under this Idempotency-Key and is gone since: the repeat can't answer with it. */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()(
  "IdempotencyKeyReused",
  { detail: fixed("This Idempotency-Key was already used") },
  http(409, "The Idempotency-Key was used for a resource that is gone")
) {
  override get message() {
    return this.detail
  }
}

/** A token's value is shown once: a repeat of its Idempotency-Key can't show it again. */
export class TokenAlreadyIssued extends Schema.TaggedError<TokenAlreadyIssued>()(
  "TokenAlreadyIssued",
  { detail: fixed("A token was already issued for this Idempotency-Key; its value is shown only once") },
  http(409, "A token was already issued for this Idempotency-Key")
) {
  override get message() {
    return this.detail
  }
}

// --- Usage and figures

/** Figures that are not whole, not positive or beyond exact arithmetic. */
export class InvalidUsage extends Schema.TaggedError<InvalidUsage>()(
  "InvalidUsage",
  { reason: Schema.String, detail: Schema.String },
  http(400, "Usage figures that can't be recorded")
) {
  // The detail follows from `reason`, as KeyLimitReached's does from `max`.
  constructor(props: { readonly reason: string; readonly detail?: string }, options?: Schema.MakeOptions) {
    super({ reason: props.reason, detail: `Invalid usage: ${props.reason}` }, options)
  }
  override get message() {
    return this.detail
  }
}

/** `/api/v1/*`: a `start_date` after the `end_date`. */
export class DateRangeReversed extends Schema.TaggedError<DateRangeReversed>()(
  "DateRangeReversed",
  { detail: fixed("start_date must not be after end_date") },
  http(400, "start_date is after end_date")
) {
  override get message() {
    return this.detail
  }
}

/** The dashboard's range: start after end, a day that does not exist, or longer than `maxDays`. */
export class InvalidDateRange extends Schema.TaggedError<InvalidDateRange>()(
  "InvalidDateRange",
  { maxDays: Schema.Int, detail: Schema.String },
  http(400, "A date range the dashboard can't show")
) {
  constructor(props: { readonly maxDays: number; readonly detail?: string }, options?: Schema.MakeOptions) {
    super(
      {
        maxDays: props.maxDays,
        detail: `Invalid date range: start must not be after end, at most ${props.maxDays} days`
      },
      options
    )
  }
  override get message() {
    return this.detail
  }
}

// --- Budgets and webhooks

export class BudgetNotFound extends Schema.TaggedError<BudgetNotFound>()(
  "BudgetNotFound",
  { detail: fixed("Budget not found") },
  http(404, "No such budget")
) {
  override get message() {
    return this.detail
  }
}

export class BudgetForbidden extends Schema.TaggedError<BudgetForbidden>()(
  "BudgetForbidden",
  { detail: fixed("Not allowed to access this budget") },
  http(403, "Another user's budget")
) {
  override get message() {
    return this.detail
  }
}

/** At most one budget per (user, scope, key, period). */
export class BudgetAlreadyExists extends Schema.TaggedError<BudgetAlreadyExists>()(
  "BudgetAlreadyExists",
  { detail: fixed("A budget for this scope, key and period already exists") },
  http(400, "A budget for the same scope, key and period exists")
) {
  override get message() {
    return this.detail
  }
}

/** An amount that is not positive, thresholds out of 1–1000 or repeated, a key scope without a key... */
export class InvalidBudget extends Schema.TaggedError<InvalidBudget>()(
  "InvalidBudget",
  { reason: Schema.String, detail: Schema.String },
  http(400, "A budget that can't be kept")
) {
  constructor(props: { readonly reason: string; readonly detail?: string }, options?: Schema.MakeOptions) {
    super({ reason: props.reason, detail: `Invalid budget: ${props.reason}` }, options)
  }
  override get message() {
    return this.detail
  }
}

export class WebhookNotFound extends Schema.TaggedError<WebhookNotFound>()(
  "WebhookNotFound",
  { detail: fixed("Webhook not found") },
  http(404, "No such webhook")
) {
  override get message() {
    return this.detail
  }
}

export class WebhookForbidden extends Schema.TaggedError<WebhookForbidden>()(
  "WebhookForbidden",
  { detail: fixed("Not allowed to access this webhook") },
  http(403, "Another user's webhook")
) {
  override get message() {
    return this.detail
  }
}

/** Not http(s), not a URL, or (in production, unless WEBHOOK_ALLOW_PRIVATE) a loopback or private host. */
export class InvalidWebhookUrl extends Schema.TaggedError<InvalidWebhookUrl>()(
  "InvalidWebhookUrl",
  { reason: Schema.String, detail: Schema.String },
  http(400, "A webhook URL that can't be used")
) {
  constructor(props: { readonly reason: string; readonly detail?: string }, options?: Schema.MakeOptions) {
    super({ reason: props.reason, detail: `Invalid webhook URL: ${props.reason}` }, options)
  }
  override get message() {
    return this.detail
  }
}

// --- Every command

/** A command named an id that already has a history (ids are minted by the server). */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()(
  "AlreadyExists",
  { detail: fixed("Resource already exists") },
  http(409, "The id is taken")
) {
  override get message() {
    return this.detail
  }
}

/**
 * Not a rule but a race: a stream moved between the read and the append. The command handler retries
 * and decides again, so the loser usually gets the ordinary answer; this 409 is what outlives the retries.
 */
/** 503: too much password hashing in flight already (a login flood); refused at once rather than queued. */
export class ServerBusy extends Schema.TaggedError<ServerBusy>()(
  "ServerBusy",
  { detail: fixed("Server busy, try again shortly") },
  http(503, "Too many password checks in flight: try again shortly")
) {
  override get message() {
    return this.detail
  }
}

export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()(
  "ConcurrencyConflict",
  {
    streamId: Schema.String,
    expectedVersion: Schema.Number,
    detail: fixed("The resource was changed concurrently, try again")
  },
  http(409, "Concurrency conflict: the change kept losing races, try again")
) {
  override get message() {
    return this.detail
  }
}

/** What the deciders refuse commands with. */
export const DomainError = Schema.Union(
  EmailAlreadyRegistered,
  InvalidEmail,
  UserNotFound,
  InvalidKeyFormat,
  KeyLimitReached,
  InvalidName,
  KeyNotFound,
  KeyForbidden,
  TokenNotFound,
  TokenForbidden,
  InvalidUsage,
  AlreadyExists,
  KeyInactive,
  BudgetNotFound,
  BudgetForbidden,
  BudgetAlreadyExists,
  InvalidBudget,
  WebhookNotFound,
  WebhookForbidden,
  InvalidWebhookUrl,
  DuplicateKey,
  InvalidLimit
)
export type DomainError = typeof DomainError.Type

/**
 * What each command can be refused with. Each decider function is typed with its entry, so the
 * compiler checks the list against the code, and the Dispatcher answers with exactly these: the
 * services' error types (and so the endpoints that must declare them) follow from the commands they send.
 */
export interface CommandRejections {
  readonly RegisterUser: InvalidEmail | EmailAlreadyRegistered
  readonly ChangePassword: UserNotFound
  readonly DeleteUser: UserNotFound
  readonly AddKey: AlreadyExists | UserNotFound | InvalidName | InvalidKeyFormat | KeyLimitReached | DuplicateKey
  readonly EditKey: KeyNotFound | KeyForbidden | InvalidName
  readonly DeleteKey: KeyNotFound | KeyForbidden
  readonly MarkKeyInvalid: KeyNotFound
  readonly RecordSyncFailure: KeyNotFound
  readonly SetKeyLimit: KeyNotFound | KeyForbidden | InvalidLimit
  readonly IssueToken: AlreadyExists | UserNotFound | InvalidName
  readonly RevokeToken: TokenNotFound | TokenForbidden
  readonly RecordUsage: InvalidUsage | KeyNotFound
  readonly RecordKeySnapshot: InvalidUsage | KeyNotFound
  readonly RecordActivity: InvalidUsage | KeyNotFound
  readonly ReconcileUsage: InvalidUsage | KeyNotFound
  readonly CreateBudget: AlreadyExists | UserNotFound | KeyNotFound | KeyForbidden | InvalidBudget | BudgetAlreadyExists
  readonly ChangeBudget: BudgetNotFound | BudgetForbidden | InvalidBudget
  readonly DeleteBudget: BudgetNotFound | BudgetForbidden
  readonly EvaluateBudget: never
  readonly EvaluateSpike: never
  readonly AddWebhook: AlreadyExists | UserNotFound | InvalidWebhookUrl
  readonly DeleteWebhook: WebhookNotFound | WebhookForbidden
}

/** The rejections of a command (of a union of commands: of any of them). */
export type RejectionOf<C extends { readonly _tag: keyof CommandRejections }> = CommandRejections[C["_tag"]]
