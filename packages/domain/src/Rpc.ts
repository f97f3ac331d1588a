import { Rpc, RpcGroup, RpcMiddleware } from "@effect/rpc"
import { Context, Schema } from "effect"
import { AlertList, AlertRow } from "./Api/Alerts.js"
import { UserResponse } from "./Api/Auth.js"
import {
  BudgetList,
  BudgetRow,
  CreateBudgetRequest,
  CreatedWebhook,
  CreateWebhookRequest,
  DeliveryList,
  TestDelivery,
  UpdateBudgetRequest,
  WebhookList
} from "./Api/Budgets.js"
import { Unauthenticated, Unprocessable } from "./Api/Errors.js"
import { KeyRow, SetLimitRequest, SyncResponse } from "./Api/Keys.js"
import { CreatedToken, TokenRow } from "./Api/Tokens.js"
import {
  AlreadyExists,
  BudgetAlreadyExists,
  BudgetForbidden,
  BudgetNotFound,
  ConcurrencyConflict,
  CurrentPasswordIncorrect,
  DuplicateKey,
  IdempotencyKeyReused,
  InvalidBudget,
  InvalidDateRange,
  InvalidKeyFormat,
  InvalidLimit,
  InvalidName,
  InvalidUsage,
  InvalidWebhookUrl,
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
  UserNotFound,
  WebhookForbidden,
  WebhookNotFound
} from "./Errors.js"
import { ApiKeyId, ApiTokenId, BudgetId, type UserId, WebhookId } from "./Ids.js"
import { Dashboard, DashboardQuery } from "./Rpc/Models.js"

export type { AlertKind } from "./Api/Alerts.js"
export type { KeyStatus } from "./Api/Keys.js"
export type { BudgetPeriod } from "./Budget/Period.js"
export * from "./Rpc/Models.js"
export {
  AlertList,
  AlertRow,
  BudgetList,
  BudgetRow,
  CreatedToken,
  CreatedWebhook,
  DeliveryList,
  KeyRow,
  SyncResponse,
  TestDelivery,
  TokenRow,
  UserResponse,
  WebhookList
}

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
/** What every change to an existing budget, or webhook, can meet. */
const OnBudget = [BudgetNotFound, BudgetForbidden, ConcurrencyConflict] as const
const OnWebhook = [WebhookNotFound, WebhookForbidden] as const
const BudgetRef = { budget_id: BudgetId }
const WebhookRef = { webhook_id: WebhookId }
/** A page of a list: 1-based, at most 1000 rows (the JSON API's `page` and `limit`). */
const PageQuery = {
  page: Schema.optionalWith(Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)), { default: () => 1 }),
  limit: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1000)), { default: () => 50 })
}

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
  }),
  /** Budgets with their current period's spent, projected and reset (design.md section 7). */
  Rpc.make("listBudgets", { success: BudgetList }),
  /** One budget per (scope, key, period); set above a threshold, it fires that threshold at once. */
  Rpc.make("createBudget", {
    payload: CreateBudgetRequest.fields,
    success: BudgetRow,
    error: Schema.Union(
      InvalidBudget,
      BudgetAlreadyExists,
      KeyForbidden,
      KeyNotFound,
      UserNotFound,
      AlreadyExists,
      ConcurrencyConflict
    )
  }),
  Rpc.make("updateBudget", {
    payload: { ...BudgetRef, ...UpdateBudgetRequest.fields },
    success: BudgetRow,
    error: Schema.Union(InvalidBudget, ...OnBudget)
  }),
  Rpc.make("deleteBudget", { payload: BudgetRef, error: Schema.Union(...OnBudget) }),
  /** Alerts that fired, newest first. */
  Rpc.make("listAlerts", { payload: PageQuery, success: AlertList }),
  Rpc.make("listWebhooks", { success: WebhookList }),
  /** `secret` in the answer is the only time it is shown: it signs every delivery. */
  Rpc.make("createWebhook", {
    payload: CreateWebhookRequest.fields,
    success: CreatedWebhook,
    error: Schema.Union(InvalidWebhookUrl, UserNotFound, AlreadyExists, ConcurrencyConflict)
  }),
  /** Deletes the webhook and destroys its secret. */
  Rpc.make("deleteWebhook", { payload: WebhookRef, error: Schema.Union(...OnWebhook, ConcurrencyConflict) }),
  /** Queues a signed `test` delivery, sent (and retried) like an alert's. */
  Rpc.make("testWebhook", { payload: WebhookRef, success: TestDelivery, error: Schema.Union(...OnWebhook) }),
  Rpc.make("listDeliveries", { payload: WebhookRef, success: DeliveryList, error: Schema.Union(...OnWebhook) })
).middleware(SessionAuth) {}
