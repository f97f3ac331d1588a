import type { Reply } from "./Routes.js"
import { errorReply } from "./Routes.js"
import type { Scenario, SimActivityRow } from "./Scenario.js"
import { fromNano } from "./Scenario.js"
import { daysBefore, utcDay } from "./Usage.js"

/** How the simulator's `POST /analytics/query` paces and cuts its answers; `calls` is its own bookkeeping. */
export interface AnalyticsOptions {
  readonly maxRows: number
  readonly perMinute: number
  readonly calls: Array<number>
}

const HISTORY_DAYS = 365
const MAX_ROWS = 10_000

interface Query {
  readonly dimensions: ReadonlyArray<string>
  readonly granularity: "day" | "hour"
  readonly start: string
  readonly end: string
  readonly filters: ReadonlyArray<{ readonly field: string; readonly value: unknown }>
  readonly limit: number
}

const parse = (body: string): Query | string => {
  let raw: unknown
  try {
    raw = JSON.parse(body)
  } catch {
    return "Invalid JSON body"
  }
  if (typeof raw !== "object" || raw === null) return "Invalid JSON body"
  const q = raw as Record<string, unknown>
  const dimensions = Array.isArray(q.dimensions) ? q.dimensions.map(String) : []
  if (dimensions.length > 2) return "At most 2 dimensions"
  const filters = Array.isArray(q.filters) ? (q.filters as Array<{ field: string; value: unknown }>) : []
  if (filters.length > 20) return "At most 20 filters"
  const limit = typeof q.limit === "number" ? q.limit : MAX_ROWS
  if (limit > MAX_ROWS || limit < 1) return `limit must be 1 to ${MAX_ROWS}`
  if (q.granularity !== "day" && q.granularity !== "hour") return "granularity must be day or hour"
  const range = q.time_range as { start?: unknown; end?: unknown } | undefined
  if (typeof range?.start !== "string" || typeof range.end !== "string") return "time_range.start and end required"
  return { dimensions, granularity: q.granularity, start: range.start, end: range.end, filters, limit }
}

/**
 * `POST /analytics/query` over the scenario's ledger (its activity rows), like OpenRouter, traps included:
 * `api_key_id` is the key's name, counts are sometimes strings, an unused metric is null, the time field
 * alternates between `date__<g>` and `created_at__<g>` and `metadata`/`warnings` between inside and beside
 * `data` from one call to the next; an unknown hash is a warning and no rows; 365 days of history; `truncated`
 * past the row cap; 64 calls a minute, then 429 with Retry-After.
 */
export const queryAnalytics = (scenario: Scenario, now: Date, body: string, options: AnalyticsOptions): Reply => {
  const t = now.getTime()
  while (options.calls.length > 0 && (options.calls[0] ?? 0) <= t - 60_000) options.calls.shift()
  if (options.calls.length >= options.perMinute) {
    const wait = Math.max(1, Math.ceil(((options.calls[0] ?? t) + 60_000 - t) / 1000))
    return errorReply(429, "Rate limit exceeded: 64 analytics queries per minute", { "retry-after": String(wait) })
  }
  options.calls.push(t)
  const query = parse(body)
  if (typeof query === "string") return errorReply(400, query)
  const hashes = query.filters.filter((f) => f.field === "api_key_id").map((f) => String(f.value))
  const keys = scenario.keys.filter((k) => hashes.length === 0 || hashes.includes(k.hash))
  const warnings = hashes.filter((h) => !scenario.keys.some((k) => k.hash === h)).map((h) => `Unknown api_key_id ${h}`)
  const first = query.start.slice(0, 10)
  const last = query.end.slice(0, 10)
  const oldest = daysBefore(now, HISTORY_DAYS)
  const today = utcDay(now)
  const sums = new Map<string, { key: string; date: string; model: string; rows: Array<SimActivityRow> }>()
  for (const key of keys) {
    for (const row of key.activity) {
      if (row.date < first || row.date >= last || row.date < oldest || row.date > today) continue
      const slot = `${key.hash}|${row.date}|${row.model}`
      const entry = sums.get(slot) ?? { key: key.name, date: row.date, model: row.model, rows: [] }
      entry.rows.push(row)
      sums.set(slot, entry)
    }
  }
  const style = options.calls.length % 2
  const field = `${style === 0 ? "date" : "created_at"}__${query.granularity}`
  const all = [...sums.values()]
    .sort((a, b) => (a.date === b.date ? a.model.localeCompare(b.model) : a.date < b.date ? -1 : 1))
    .map((entry, i) => {
      const total = (pick: (r: SimActivityRow) => number) => entry.rows.reduce((n, r) => n + pick(r), 0)
      const usage = total((r) => r.usage)
      const byok = total((r) => r.byok_usage_inference)
      const requests = total((r) => r.requests)
      return {
        [field]: query.granularity === "day" ? entry.date : `${entry.date} 00:00:00`,
        api_key_id: entry.key,
        model: entry.model,
        total_usage: fromNano(usage + byok),
        byok_usage: byok === 0 ? null : fromNano(byok),
        request_count: i % 2 === 0 ? String(requests) : requests,
        tokens_prompt: total((r) => r.prompt_tokens),
        tokens_completion: String(total((r) => r.completion_tokens))
      }
    })
  const cap = Math.min(query.limit, options.maxRows)
  const rows = all.slice(0, cap)
  const metadata = { query_time_ms: 12, row_count: rows.length, truncated: all.length > cap }
  const data = style === 0 ? { data: { data: rows, metadata, warnings } } : { data: { data: rows }, metadata, warnings }
  return { status: 200, body: data }
}
