import { type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { routePath } from "./Routes.js"

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; quotes doubled. */
export const csvField = (value: string | number): string => {
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/**
 * A CSV document: the header line, then one line per row, CRLF-terminated (RFC 4180). Numbers are written
 * as JSON writes them (`String(n)`), so a cost reads the same decimal as in the JSON answer.
 */
export const toCsv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>): string =>
  [header, ...rows].map((row) => `${row.map(csvField).join(",")}\r\n`).join("")

/** Whether the client asked for CSV: `format=csv`, or no `format` and an `Accept` naming `text/csv`. */
export const wantsCsv = (format: "json" | "csv" | undefined, accept: string | undefined): boolean =>
  format === "csv" || (format === undefined && prefersCsv(accept))

/**
 * Whether an `Accept` header asks for CSV: `text/csv` (or `text/*`) with a weight above 0 and at least the
 * weight it gives JSON (`application/json`, `application/*`; a bare `*` counts for both), so that
 * `text/csv;q=0` or `application/json, text/csv;q=0.5` stay JSON. Without `Accept` the answer is JSON.
 */
export const prefersCsv = (accept: string | undefined): boolean => {
  if (accept === undefined) return false
  const weights = new Map<string, number>()
  for (const part of accept.toLowerCase().split(",")) {
    const [range = "", ...params] = part.trim().split(";")
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="))
    const weight = q === undefined ? 1 : Number(q.slice(2))
    weights.set(range.trim(), Number.isFinite(weight) ? weight : 0)
  }
  const weightOf = (...ranges: ReadonlyArray<string>) => {
    for (const range of ranges) {
      const weight = weights.get(range)
      if (weight !== undefined) return weight
    }
    return 0
  }
  const csv = weightOf("text/csv", "text/*")
  if (csv <= 0 || (!weights.has("text/csv") && !weights.has("text/*"))) return false
  return csv >= weightOf("application/json", "application/*", "*/*")
}

/** The public API's usage, the one answer whose CSV form holds every row of the range. */
const V1_USAGE = "/api/v1/usage"

/**
 * `GET /api/v1/usage` asking for CSV with `page` or `limit` in its query, without them: for the CSV "page and
 * limit do not apply" (design.md section 9), so their values are not checked either (`limit=5000` is no 422).
 * Any other request as it is.
 */
export const withoutPagingForCsv = (
  request: HttpServerRequest.HttpServerRequest
): HttpServerRequest.HttpServerRequest => {
  if (request.method !== "GET" || routePath(request.url) !== V1_USAGE) return request
  const query = request.url.indexOf("?")
  if (query === -1) return request
  const params = new URLSearchParams(request.url.slice(query + 1))
  if (!params.has("page") && !params.has("limit")) return request
  const format = params.getAll("format")
  const csv = format.length === 0 ? prefersCsv(request.headers.accept) : format.length === 1 && format[0] === "csv"
  if (!csv) return request
  params.delete("page")
  params.delete("limit")
  const rest = params.toString()
  return request.modify({ url: `${request.url.slice(0, query)}${rest === "" ? "" : `?${rest}`}` })
}

/** A CSV answer, downloaded as `filename`. */
export const csvAnswer = (filename: string, body: string) =>
  HttpServerResponse.text(body, {
    contentType: "text/csv; charset=utf-8",
    headers: { "content-disposition": `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, "_")}"` }
  })

/** `usage-2026-01-01-to-2026-01-31.csv`, `usage-all.csv`... */
export const usageFilename = (start: string | undefined, end: string | undefined) =>
  `usage-${start ?? "start"}-to-${end ?? "today"}.csv`

/** The CSV columns of a usage row (design.md section 9). */
export const USAGE_COLUMNS = ["date", "model", "requests", "tokens_input", "tokens_output", "cost"] as const
