import { HttpApi, OpenApi } from "@effect/platform"
import { AccountApi } from "./Api/Account.js"
import { AlertsApi } from "./Api/Alerts.js"
import { AuthApi } from "./Api/Auth.js"
import { BudgetsApi, WebhooksApi } from "./Api/Budgets.js"
import { InternalError, json, UnprocessableJson } from "./Api/Errors.js"
import { KeysApi } from "./Api/Keys.js"
import { TokensApi } from "./Api/Tokens.js"
import { V1Api } from "./Api/V1.js"
import { VERSION } from "./Version.js"

export * from "./Api/Account.js"
export * from "./Api/Alerts.js"
export * from "./Api/Auth.js"
export * from "./Api/Budgets.js"
export * from "./Api/Errors.js"
export * from "./Api/Keys.js"
export * from "./Api/Security.js"
export * from "./Api/Tokens.js"
export * from "./Api/V1.js"

/**
 * The HTTP contract (design.md section 3): the JSON API (sessions) and the public v1 API (API tokens).
 * Every error body is `{"detail": "..."}`; a schema-invalid request is a 422 with a field-level list.
 */
export class OrwApi extends HttpApi.make("orw")
  .add(AuthApi)
  .add(AccountApi)
  .add(KeysApi)
  .add(TokensApi)
  .add(BudgetsApi)
  .add(AlertsApi)
  .add(WebhooksApi)
  .add(V1Api)
  .addError(UnprocessableJson)
  .addError(json(InternalError))
  .annotate(OpenApi.Title, "openrouter-watcher")
  .annotate(OpenApi.Version, VERSION)
  .annotate(
    OpenApi.Description,
    'Self-hosted monitor for OpenRouter API keys. Errors are {"detail": "..."}. Money is USD rounded to ' +
      "6 decimals, dates YYYY-MM-DD (UTC), times ISO 8601 UTC."
  ) {}
