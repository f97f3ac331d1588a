import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BudgetScope } from "../Budget/Events.js"
import { BudgetPeriod } from "../Budget/Period.js"
import {
  AlreadyExists,
  BudgetAlreadyExists,
  BudgetForbidden,
  BudgetNotFound,
  ConcurrencyConflict,
  InvalidBudget,
  InvalidWebhookUrl,
  KeyForbidden,
  KeyNotFound,
  UserNotFound,
  WebhookForbidden,
  WebhookNotFound
} from "../Errors.js"
import { ApiKeyId, BudgetId, WebhookId } from "../Ids.js"
import { WebhookFormat } from "../Webhook/Events.js"
import { json } from "./Errors.js"
import { SessionAuth } from "./Security.js"

/** A budget with its current period's spend (the figure /api/v1/stats gives for those dates) and projection. */
export class BudgetRow extends Schema.Class<BudgetRow>("BudgetRow")({
  id: BudgetId,
  scope: BudgetScope,
  key_id: Schema.NullOr(ApiKeyId),
  amount: Schema.Number,
  period: BudgetPeriod,
  thresholds: Schema.Array(Schema.Int),
  spent: Schema.Number,
  projected: Schema.Number,
  /** The period's first instant and the reset (exclusive end), ISO 8601 UTC. */
  period_start: Schema.String,
  period_end: Schema.String,
  created_at: Schema.String
}) {}

export class BudgetList extends Schema.Class<BudgetList>("BudgetList")({ items: Schema.Array(BudgetRow) }) {}

/** Amount in USD; thresholds in percent (default [50, 80, 100]); `key_id` for a `key` budget only. */
export class CreateBudgetRequest extends Schema.Class<CreateBudgetRequest>("CreateBudgetRequest")({
  scope: BudgetScope,
  key_id: Schema.optional(Schema.NullOr(ApiKeyId)),
  amount: Schema.Finite,
  period: BudgetPeriod,
  thresholds: Schema.optional(Schema.Array(Schema.Finite))
}) {}

export class UpdateBudgetRequest extends Schema.Class<UpdateBudgetRequest>("UpdateBudgetRequest")({
  amount: Schema.optional(Schema.Finite),
  thresholds: Schema.optional(Schema.Array(Schema.Finite))
}) {}

export class CreateWebhookRequest extends Schema.Class<CreateWebhookRequest>("CreateWebhookRequest")({
  url: Schema.String,
  format: Schema.optionalWith(WebhookFormat, { default: () => "generic" as const })
}) {}

/** A new webhook: `secret` signs every delivery (X-Orw-Signature) and is shown here once. */
export class CreatedWebhook extends Schema.Class<CreatedWebhook>("CreatedWebhook")({
  id: WebhookId,
  url: Schema.String,
  format: WebhookFormat,
  secret: Schema.String,
  created_at: Schema.String
}) {}

export class WebhookRow extends Schema.Class<WebhookRow>("WebhookRow")({
  id: WebhookId,
  url: Schema.String,
  format: WebhookFormat,
  created_at: Schema.String
}) {}

export class WebhookList extends Schema.Class<WebhookList>("WebhookList")({ items: Schema.Array(WebhookRow) }) {}

export const DeliveryStatus = Schema.Literal("pending", "delivered", "failed")

export class DeliveryRow extends Schema.Class<DeliveryRow>("DeliveryRow")({
  id: Schema.String,
  alert_id: Schema.NullOr(Schema.String),
  type: Schema.String,
  status: DeliveryStatus,
  attempts: Schema.Int,
  last_status_code: Schema.NullOr(Schema.Int),
  last_error: Schema.NullOr(Schema.String),
  next_attempt_at: Schema.NullOr(Schema.String),
  delivered_at: Schema.NullOr(Schema.String),
  created_at: Schema.String
}) {}

export class DeliveryList extends Schema.Class<DeliveryList>("DeliveryList")({ items: Schema.Array(DeliveryRow) }) {}

export class TestDelivery extends Schema.Class<TestDelivery>("TestDelivery")({ delivery_id: Schema.String }) {}

const BudgetPath = Schema.Struct({ id: BudgetId })
const WebhookPath = Schema.Struct({ id: WebhookId })

/** Budgets of the signed-in user (design.md section 7). */
export class BudgetsApi extends HttpApiGroup.make("budgets")
  .add(
    HttpApiEndpoint.get("list", "/api/budgets")
      .addSuccess(BudgetList)
      .annotate(OpenApi.Summary, "Budgets with the current period's spent, projected and reset time")
  )
  .add(
    HttpApiEndpoint.post("create", "/api/budgets")
      .setPayload(CreateBudgetRequest)
      .addSuccess(BudgetRow, { status: 201 })
      .addError(json(InvalidBudget))
      .addError(json(BudgetAlreadyExists))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .addError(json(UserNotFound))
      .addError(json(AlreadyExists))
      .addError(json(ConcurrencyConflict))
      .annotate(
        OpenApi.Summary,
        "Set a budget; one per (scope, key, period); fires at once if already above a threshold"
      )
  )
  .add(
    HttpApiEndpoint.put("update", "/api/budgets/:id")
      .setPath(BudgetPath)
      .setPayload(UpdateBudgetRequest)
      .addSuccess(BudgetRow)
      .addError(json(InvalidBudget))
      .addError(json(BudgetForbidden))
      .addError(json(BudgetNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Change a budget's amount or thresholds")
  )
  .add(
    HttpApiEndpoint.del("remove", "/api/budgets/:id")
      .setPath(BudgetPath)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(json(BudgetForbidden))
      .addError(json(BudgetNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Delete a budget")
  )
  .middleware(SessionAuth) {}

/** Webhook endpoints of the signed-in user, and their deliveries. */
export class WebhooksApi extends HttpApiGroup.make("webhooks")
  .add(HttpApiEndpoint.get("list", "/api/webhooks").addSuccess(WebhookList).annotate(OpenApi.Summary, "List webhooks"))
  .add(
    HttpApiEndpoint.post("create", "/api/webhooks")
      .setPayload(CreateWebhookRequest)
      .addSuccess(CreatedWebhook, { status: 201 })
      .addError(json(InvalidWebhookUrl))
      .addError(json(UserNotFound))
      .addError(json(AlreadyExists))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Add a webhook (generic, slack or discord); its signing secret is shown once")
  )
  .add(
    HttpApiEndpoint.del("remove", "/api/webhooks/:id")
      .setPath(WebhookPath)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(json(WebhookForbidden))
      .addError(json(WebhookNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Delete a webhook: its secret is destroyed")
  )
  .add(
    HttpApiEndpoint.post("test", "/api/webhooks/:id/test")
      .setPath(WebhookPath)
      .addSuccess(TestDelivery, { status: 202 })
      .addError(json(WebhookForbidden))
      .addError(json(WebhookNotFound))
      .annotate(OpenApi.Summary, "Queue a signed `test` delivery")
  )
  .add(
    HttpApiEndpoint.get("deliveries", "/api/webhooks/:id/deliveries")
      .setPath(WebhookPath)
      .addSuccess(DeliveryList)
      .addError(json(WebhookForbidden))
      .addError(json(WebhookNotFound))
      .annotate(OpenApi.Summary, "The webhook's latest deliveries with their status and last error")
  )
  .middleware(SessionAuth) {}
