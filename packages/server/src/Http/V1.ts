import { HttpApiBuilder } from "@effect/platform"
import { CurrentUser, OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"
import { AlertsService } from "../App/Alerts.js"
import { Stats } from "../App/Stats.js"
import { csvAnswer, toCsv, USAGE_COLUMNS, usageFilename, wantsCsv } from "./Csv.js"

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
      .handle("usage", ({ urlParams, request }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          const query = { startDate: urlParams.start_date, endDate: urlParams.end_date, keyId: urlParams.key_id }
          if (!wantsCsv(urlParams.format, request.headers.accept))
            return yield* stats.usage(user.userId, { ...query, page: urlParams.page, limit: urlParams.limit })
          // CSV: every row of the range, the JSON pages' rows (page and limit do not apply).
          const items = yield* stats.usageItems(user.userId, query)
          return csvAnswer(
            usageFilename(urlParams.start_date, urlParams.end_date),
            toCsv(
              USAGE_COLUMNS,
              items.map((i) => [i.date, i.model, i.requests, i.tokens_input, i.tokens_output, i.cost])
            )
          )
        })
      )
      .handle("keys", () => Effect.flatMap(CurrentUser, (user) => stats.keys(user.userId)))
      .handle("alerts", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) => alerts.list(user.userId, urlParams.page, urlParams.limit))
      )
  })
)
