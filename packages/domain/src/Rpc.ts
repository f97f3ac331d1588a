import { Rpc, RpcGroup, RpcMiddleware } from "@effect/rpc"
import { Context, Schema } from "effect"
import { UserResponse } from "./Api/Auth.js"
import { Unauthenticated, Unprocessable } from "./Api/Errors.js"
import { KeyRow, SetLimitRequest, SyncResponse } from "./Api/Keys.js"
import { CreatedToken, TokenRow } from "./Api/Tokens.js"
import {
  AlreadyExists,
  ConcurrencyConflict,
  CurrentPasswordIncorrect,
  DuplicateKey,
  IdempotencyKeyReused,
  InvalidDateRange,
  InvalidKeyFormat,
  InvalidLimit,
  InvalidName,
  InvalidUsage,
  KeyForbidden,
  KeyInactive,
  KeyLimitReached,
  KeyNotFound,
  ManagementKeyRequired,
  PasswordIncorrect,
  TokenAlreadyIssued,
  TokenForbidden,
  TokenNotFound,
  UpstreamRefused,
  UserNotFound
} from "./Errors.js"
import { ApiKeyId, ApiTokenId, type UserId } from "./Ids.js"
import { Dashboard, DashboardQuery } from "./Rpc/Models.js"

export type { KeyStatus } from "./Api/Keys.js"
export * from "./Rpc/Models.js"
export { CreatedToken, KeyRow, SyncResponse, TokenRow, UserResponse }

/** The user a verified session cookie belongs to; handlers read it, {@link SessionAuth} provides it. */
export class CurrentUser extends Context.Tag("orw/Rpc/CurrentUser")<CurrentUser, { readonly userId: UserId }>() {}

/** The refusals of the RPCs are the JSON API's classes, sent with their `_tag` (the UI `catchTag`s them). */
export { Unauthenticated, Unprocessable }

/**
 * Every web RPC runs behind this middleware: the server verifies the session cookie (a user that
 * still exists, no password change since it was issued) or fails the call with {@link Unauthenticated}.
 */
export class SessionAuth extends RpcMiddleware.Tag<SessionAuth>()("orw/Rpc/SessionAuth", {
  provides: CurrentUser,
  failure: Unauthenticated
}) {}

/** Ids as the rows carry them (opaque strings). */
const KeyRef = { key_id: ApiKeyId }
const Password = Schema.Redacted(Schema.String)
/** What every change to an existing key can meet. */
const OnKey = [KeyNotFound, KeyForbidden, ConcurrencyConflict] as const

/**
 * The RPC contract of the web UI, served at `POST /rpc` (JSON serialization) with the session
 * cookie; the server refuses calls from any other Origin with 403. Rows are the JSON API's; each
 * RPC names the rejections its service can answer with (the compiler holds the handlers to them).
 */
export class WebRpcs extends RpcGroup.make(
  Rpc.make("me", { success: UserResponse, error: UserNotFound }),
  Rpc.make("dashboard", { payload: DashboardQuery, success: Dashboard, error: InvalidDateRange }),
  Rpc.make("listKeys", { success: Schema.Array(KeyRow) }),
  /** The plaintext key travels once, redacted on the server, and is never sent back (rows show the label). */
  Rpc.make("addKey", {
    payload: { name: Schema.String, key: Schema.Redacted(Schema.String) },
    success: KeyRow,
    error: Schema.Union(
      InvalidName,
      InvalidKeyFormat,
      KeyLimitReached,
      DuplicateKey,
      UserNotFound,
      IdempotencyKeyReused,
      AlreadyExists,
      ConcurrencyConflict
    )
  }),
  Rpc.make("renameKey", {
    payload: { ...KeyRef, name: Schema.String },
    success: KeyRow,
    error: Schema.Union(InvalidName, ...OnKey)
  }),
  Rpc.make("setKeyActive", {
    payload: { ...KeyRef, is_active: Schema.Boolean },
    success: KeyRow,
    error: Schema.Union(InvalidName, ...OnKey)
  }),
  Rpc.make("deleteKey", { payload: KeyRef, error: Schema.Union(...OnKey) }),
  /** Sets the key's OpenRouter limit and reset period through the user's management key (see the JSON API). */
  Rpc.make("setKeyLimit", {
    payload: { ...KeyRef, limit: SetLimitRequest.fields.limit, limit_reset: SetLimitRequest.fields.limit_reset },
    success: KeyRow,
    error: Schema.Union(ManagementKeyRequired, InvalidLimit, InvalidUsage, UpstreamRefused, ...OnKey)
  }),
  /** Syncs the key with OpenRouter now; an upstream refusal is an outcome (`invalid`, `failed`), not an error. */
  Rpc.make("syncKey", {
    payload: KeyRef,
    success: SyncResponse,
    error: Schema.Union(InvalidUsage, KeyInactive, ...OnKey)
  }),
  Rpc.make("listTokens", { success: Schema.Array(TokenRow) }),
  /** `token` in the answer is the only time the secret is shown. */
  Rpc.make("createToken", {
    payload: { name: Schema.String },
    success: CreatedToken,
    error: Schema.Union(InvalidName, UserNotFound, TokenAlreadyIssued, AlreadyExists, ConcurrencyConflict)
  }),
  Rpc.make("revokeToken", {
    payload: { token_id: ApiTokenId },
    error: Schema.Union(TokenNotFound, TokenForbidden, ConcurrencyConflict)
  }),
  /** Ends every session issued before the change, the caller's too: the UI signs in again with the new password. */
  Rpc.make("changePassword", {
    payload: { current_password: Password, new_password: Password, new_password_confirm: Password },
    error: Schema.Union(CurrentPasswordIncorrect, Unprocessable, UserNotFound, ConcurrencyConflict)
  }),
  /** Deletes the account, its keys (crypto-shredded), tokens and figures; the password confirms it. */
  Rpc.make("deleteAccount", {
    payload: { password: Password },
    error: Schema.Union(PasswordIncorrect, UserNotFound, ConcurrencyConflict)
  })
).middleware(SessionAuth) {}
