import { HttpServerResponse } from "@effect/platform"

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
  format === "csv" || (format === undefined && (accept ?? "").toLowerCase().includes("text/csv"))

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
