import { Rpc, RpcGroup, RpcMiddleware } from "@effect/rpc"
import { Context, type ParseResult, Schema } from "effect"
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
  ServerBusy,
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
import { ExplorerQuery, UsageExplorer } from "./Usage/ExplorerSchema.js"

export type { AlertKind } from "./Api/Alerts.js"
export type { KeyStatus } from "./Api/Keys.js"
export type { BudgetPeriod } from "./Budget/Period.js"
export * from "./Rpc/Models.js"
export { type ExplorerQuery, ExplorerRow, ExplorerTotals, UsageExplorer } from "./Usage/ExplorerSchema.js"
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

/** The dotted paths of the fields a payload failed on (at most 5, at most 16 deep), without their values. */
const failedPaths = (issue: ParseResult.ParseIssue): ReadonlyArray<string> => {
  const paths = new Set<string>()
  const stack: Array<[ParseResult.ParseIssue, ReadonlyArray<PropertyKey>]> = [[issue, []]]
  while (stack.length > 0 && paths.size < 5) {
    const [current, path] = stack.pop() ?? [issue, []]
    if (path.length > 16) continue
    switch (current._tag) {
      case "Pointer":
        stack.push([current.issue, [...path, ...(Array.isArray(current.path) ? current.path : [current.path])]])
        break
      case "Composite":
        for (const inner of Array.isArray(current.issues) ? current.issues : [current.issues]) stack.push([inner, path])
        break
      case "Refinement":
      case "Transformation":
        stack.push([current.issue, path])
        break
      default:
        paths.add(path.map(String).join("."))
    }
  }
  return [...paths]
}

/**
 * A payload whose refusal never shows the input: the RPC server sends a payload that does not decode back as
 * a defect with the schema's message, which by default quotes the value (`actual "sk-or-v1-..."`): a key or a
 * password. This message names only the fields.
 */
const payload = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields).annotations({
    message: (issue) => {
      const paths = failedPaths(issue).filter((p) => p !== "")
      return {
        message: paths.length === 0 ? "Invalid payload" : `Invalid payload: ${paths.join(", ")}`,
        override: true
      }
    }
  })

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
  Rpc.make("dashboard", { payload: payload(DashboardQuery.fields), success: Dashboard, error: InvalidDateRange }),
  /** The usage explorer's rows: the same effective usage and exact sums as `/api/v1/usage` and `/api/usage`. */
  Rpc.make("usage", {
    payload: payload(ExplorerQuery.fields),
    success: UsageExplorer,
    error: Schema.Union(InvalidDateRange, KeyNotFound, KeyForbidden)
  }),
  Rpc.make("listKeys", { success: Schema.Array(KeyRow) }),
  /** The plaintext key travels once, redacted on the server, and is never sent back (rows show the label). */
  Rpc.make("addKey", {
    payload: payload({ name: Schema.String, key: Schema.Redacted(Schema.String) }),
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
    payload: payload({ ...KeyRef, name: Schema.String }),
    success: KeyRow,
    error: Schema.Union(InvalidName, ...OnKey)
  }),
  Rpc.make("setKeyActive", {
    payload: payload({ ...KeyRef, is_active: Schema.Boolean }),
    success: KeyRow,
    error: Schema.Union(InvalidName, ...OnKey)
  }),
  Rpc.make("deleteKey", { payload: payload(KeyRef), error: Schema.Union(...OnKey) }),
  /** Sets the key's OpenRouter limit and reset period through the user's management key (see the JSON API). */
  Rpc.make("setKeyLimit", {
    payload: payload({
      ...KeyRef,
      limit: SetLimitRequest.fields.limit,
      limit_reset: SetLimitRequest.fields.limit_reset
    }),
    success: KeyRow,
    error: Schema.Union(ManagementKeyRequired, InvalidLimit, InvalidUsage, UpstreamRefused, ...OnKey)
  }),
  /** Syncs the key with OpenRouter now; an upstream refusal is an outcome (`invalid`, `failed`), not an error. */
  Rpc.make("syncKey", {
    payload: payload(KeyRef),
    success: SyncResponse,
    error: Schema.Union(InvalidUsage, KeyInactive, ...OnKey)
  }),
  Rpc.make("listTokens", { success: Schema.Array(TokenRow) }),
  /** `token` in the answer is the only time the secret is shown. */
  Rpc.make("createToken", {
    payload: payload({ name: Schema.String }),
    success: CreatedToken,
    error: Schema.Union(InvalidName, UserNotFound, TokenAlreadyIssued, AlreadyExists, ConcurrencyConflict)
  }),
  Rpc.make("revokeToken", {
    payload: payload({ token_id: ApiTokenId }),
    error: Schema.Union(TokenNotFound, TokenForbidden, ConcurrencyConflict)
  }),
  /** Ends every session issued before the change, the caller's too: the UI signs in again with the new password. */
  Rpc.make("changePassword", {
    payload: payload({ current_password: Password, new_password: Password, new_password_confirm: Password }),
    error: Schema.Union(CurrentPasswordIncorrect, Unprocessable, UserNotFound, ConcurrencyConflict, ServerBusy)
  }),
  /** Deletes the account, its keys (crypto-shredded), tokens and figures; the password confirms it. */
  Rpc.make("deleteAccount", {
    payload: payload({ password: Password }),
    error: Schema.Union(PasswordIncorrect, UserNotFound, ConcurrencyConflict, ServerBusy)
  }),
  /** Budgets with their current period's spent, projected and reset (design.md section 7). */
  Rpc.make("listBudgets", { success: BudgetList }),
  /** One budget per (scope, key, period); set above a threshold, it fires that threshold at once. */
  Rpc.make("createBudget", {
    payload: payload(CreateBudgetRequest.fields),
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
    payload: payload({ ...BudgetRef, ...UpdateBudgetRequest.fields }),
    success: BudgetRow,
    error: Schema.Union(InvalidBudget, ...OnBudget)
  }),
  Rpc.make("deleteBudget", { payload: payload(BudgetRef), error: Schema.Union(...OnBudget) }),
  /** Alerts that fired, newest first. */
  Rpc.make("listAlerts", { payload: payload(PageQuery), success: AlertList }),
  Rpc.make("listWebhooks", { success: WebhookList }),
  /** `secret` in the answer is the only time it is shown: it signs every delivery. */
  Rpc.make("createWebhook", {
    payload: payload(CreateWebhookRequest.fields),
    success: CreatedWebhook,
    error: Schema.Union(InvalidWebhookUrl, UserNotFound, AlreadyExists, ConcurrencyConflict)
  }),
  /** Deletes the webhook and destroys its secret. */
  Rpc.make("deleteWebhook", { payload: payload(WebhookRef), error: Schema.Union(...OnWebhook, ConcurrencyConflict) }),
  /** Queues a signed `test` delivery, sent (and retried) like an alert's. */
  Rpc.make("testWebhook", { payload: payload(WebhookRef), success: TestDelivery, error: Schema.Union(...OnWebhook) }),
  Rpc.make("listDeliveries", { payload: payload(WebhookRef), success: DeliveryList, error: Schema.Union(...OnWebhook) })
).middleware(SessionAuth) {}
