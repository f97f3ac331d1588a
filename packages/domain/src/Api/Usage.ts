import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { InvalidDateRange, KeyForbidden, KeyNotFound } from "../Errors.js"
import { ApiKeyId } from "../Ids.js"
import {
  GranularitySchema,
  SortColumnSchema,
  SortOrderSchema,
  SplitSchema,
  UsageExplorer
} from "../Usage/ExplorerSchema.js"
import { json } from "./Errors.js"
import { SessionAuth } from "./Security.js"
import { csvResponse, DateParam, OutputFormat } from "./V1.js"

export { UsageExplorer }

/** The explorer's filter in a URL: `key_id` and `model` may repeat; without dates, the last 30 days. */
export const ExplorerParams = Schema.Struct({
  start_date: Schema.optional(DateParam),
  end_date: Schema.optional(DateParam),
  key_id: Schema.optionalWith(Schema.Array(ApiKeyId), { default: () => [] }),
  model: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  group: Schema.optionalWith(GranularitySchema, { default: () => "day" as const }),
  by: Schema.optionalWith(SplitSchema, { default: () => "model" as const }),
  sort: Schema.optionalWith(SortColumnSchema, { default: () => "date" as const }),
  order: Schema.optionalWith(SortOrderSchema, { default: () => "asc" as const }),
  format: Schema.optional(OutputFormat)
})
export type ExplorerParams = typeof ExplorerParams.Type

/**
 * The usage explorer of the web app (session): the same rows as its table for the same filter, as JSON or,
 * with `format=csv` or `Accept: text/csv`, as the CSV its export button downloads (every row, in the order
 * asked). Grouped by day and model over all keys, the rows are `/api/v1/usage`'s.
 */
export class UsageApi extends HttpApiGroup.make("usage")
  .add(
    HttpApiEndpoint.get("explore", "/api/usage")
      .setUrlParams(ExplorerParams)
      .addSuccess(UsageExplorer)
      .addError(json(InvalidDateRange))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .annotate(OpenApi.Summary, "Usage per day, week or month and per model or key; JSON or CSV")
      .annotate(OpenApi.Transform, csvResponse("date,model|key,requests,tokens_input,tokens_output,cost"))
  )
  .middleware(SessionAuth) {}
