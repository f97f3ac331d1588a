import { HttpApiBuilder } from "@effect/platform"
import { CurrentUser, OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"
import { AlertsService } from "../App/Alerts.js"
import { BudgetsService } from "../App/Budgets.js"
import { WebhooksService } from "../App/Webhooks.js"
import { requestOrigin } from "./RequestContext.js"

/** /api/budgets: the signed-in user's budgets. */
export const BudgetsHandlers = HttpApiBuilder.group(OrwApi, "budgets", (handlers) =>
  Effect.gen(function* () {
    const budgets = yield* BudgetsService
    return handlers
      .handle("list", () => Effect.flatMap(CurrentUser, (user) => budgets.list(user.userId)))
      .handle("create", ({ payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          Effect.flatMap(requestOrigin(), (origin) => budgets.create(user.userId, payload, origin))
        )
      )
      .handle("update", ({ path, payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          Effect.flatMap(requestOrigin(), (origin) => budgets.update(user.userId, path.id, payload, origin))
        )
      )
      .handle("remove", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) =>
          Effect.flatMap(requestOrigin(), (origin) => budgets.remove(user.userId, path.id, origin))
        )
      )
  })
)

/** /api/alerts: the signed-in user's alerts. */
export const AlertsHandlers = HttpApiBuilder.group(OrwApi, "alerts", (handlers) =>
  Effect.gen(function* () {
    const alerts = yield* AlertsService
    return handlers.handle("list", ({ urlParams }) =>
      Effect.flatMap(CurrentUser, (user) => alerts.list(user.userId, urlParams.page, urlParams.limit))
    )
  })
)

/** /api/webhooks: the signed-in user's webhook endpoints and their deliveries. */
export const WebhooksHandlers = HttpApiBuilder.group(OrwApi, "webhooks", (handlers) =>
  Effect.gen(function* () {
    const webhooks = yield* WebhooksService
    return handlers
      .handle("list", () => Effect.flatMap(CurrentUser, (user) => webhooks.list(user.userId)))
      .handle("create", ({ payload }) =>
        Effect.flatMap(CurrentUser, (user) =>
          Effect.flatMap(requestOrigin(), (origin) => webhooks.create(user.userId, payload, origin))
        )
      )
      .handle("remove", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) =>
          Effect.flatMap(requestOrigin(), (origin) => webhooks.remove(user.userId, path.id, origin))
        )
      )
      .handle("test", ({ path }) => Effect.flatMap(CurrentUser, (user) => webhooks.test(user.userId, path.id)))
      .handle("deliveries", ({ path }) =>
        Effect.flatMap(CurrentUser, (user) => webhooks.deliveries(user.userId, path.id))
      )
  })
)
