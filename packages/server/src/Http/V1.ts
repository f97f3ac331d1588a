import { HttpApiBuilder } from "@effect/platform"
import { CurrentUser, OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"
import { AlertsService } from "../App/Alerts.js"
import { Stats } from "../App/Stats.js"

/** /api/v1: the public API, read from projections only; no request appends an event. */
export const V1Handlers = HttpApiBuilder.group(OrwApi, "v1", (handlers) =>
  Effect.gen(function* () {
    const stats = yield* Stats
    const alerts = yield* AlertsService
    return handlers
      .handle("stats", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) =>
          stats.stats(user.userId, { startDate: urlParams.start_date, endDate: urlParams.end_date })
        )
      )
      .handle("usage", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) =>
          stats.usage(user.userId, {
            startDate: urlParams.start_date,
            endDate: urlParams.end_date,
            keyId: urlParams.key_id,
            page: urlParams.page,
            limit: urlParams.limit
          })
        )
      )
      .handle("keys", () => Effect.flatMap(CurrentUser, (user) => stats.keys(user.userId)))
      .handle("alerts", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => alerts.list(user.userId, urlParams.page, urlParams.limit))
      )
  })
)
