import { HttpApiBuilder } from "@effect/platform"
import { CurrentUser, OrwApi } from "@orw/domain/Api"
import { sortRows } from "@orw/domain/Usage/Explorer"
import { UsageExplorer } from "@orw/domain/Usage/ExplorerSchema"
import { Effect } from "effect"
import { explore } from "../App/Explorer.js"
import { csvAnswer, toCsv, usageFilename, wantsCsv } from "./Csv.js"

/**
 * `GET /api/usage` (session): the explorer's rows for a filter, in the order asked, as JSON or as the CSV the
 * web app's export downloads: the same rows as its table (sorted with the same `sortRows`), every page.
 */
export const UsageHandlers = HttpApiBuilder.group(OrwApi, "usage", (handlers) =>
  handlers.handle("explore", ({ urlParams, request }) =>
    Effect.gen(function* () {
      const user = yield* CurrentUser
      const found = yield* explore(user.userId, {
        startDate: urlParams.start_date,
        endDate: urlParams.end_date,
        keyIds: urlParams.key_id,
        models: urlParams.model,
        granularity: urlParams.group,
        split: urlParams.by
      })
      const rows = sortRows(found.rows, urlParams.sort, urlParams.order)
      if (!wantsCsv(urlParams.format, request.headers.accept)) return new UsageExplorer({ ...found, rows })
      const header = ["date", found.split, "requests", "tokens_input", "tokens_output", "cost"]
      return csvAnswer(
        usageFilename(found.start_date, found.end_date),
        toCsv(
          header,
          rows.map((r) => [r.date, r.label, r.requests, r.tokens_input, r.tokens_output, r.cost])
        )
      )
    })
  )
)
