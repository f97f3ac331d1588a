import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BudgetPeriod } from "../Budget/Period.js"
import { AlertId, ApiKeyId, BudgetId } from "../Ids.js"
import { PageParams, Pagination } from "./Paging.js"
import { SessionAuth } from "./Security.js"

export const AlertKind = Schema.Literal("threshold", "spike", "forecast")
export type AlertKind = typeof AlertKind.Type

export class AlertRow extends Schema.Class<AlertRow>("AlertRow")({
  id: AlertId,
  kind: AlertKind,
  budget_id: Schema.NullOr(BudgetId),
  key_id: Schema.NullOr(ApiKeyId),
  threshold: Schema.NullOr(Schema.Int),
  amount: Schema.Number,
  spent: Schema.Number,
  period: BudgetPeriod,
  period_start: Schema.String,
  fired_at: Schema.String
}) {}

export class AlertList extends Schema.Class<AlertList>("AlertList")({
  items: Schema.Array(AlertRow),
  pagination: Pagination
}) {}

/** Alerts of the signed-in user (the same list is `GET /api/v1/alerts` with an API token). */
export class AlertsApi extends HttpApiGroup.make("alerts")
  .add(
    HttpApiEndpoint.get("list", "/api/alerts")
      .setUrlParams(PageParams)
      .addSuccess(AlertList)
      .annotate(OpenApi.Summary, "Alerts that fired, newest first (limit at most 1000)")
  )
  .middleware(SessionAuth) {}
