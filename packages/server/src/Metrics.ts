import { Effect, Metric, MetricBoundaries, MetricLabel } from "effect"

/**
 * The application's metrics, in Effect's registry; `Http/Metrics.ts` exposes them (and the gauges read at
 * scrape time) as Prometheus text. Names follow Prometheus conventions: `orw_` prefix, base units
 * (seconds), `_total` on counters. Labels are bounded sets (routes, event types, outcomes, endpoints).
 */

/** Latency buckets in seconds, from 5 ms to 30 s. */
const SECONDS = MetricBoundaries.fromIterable([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])

const httpRequests = Metric.counter("orw_http_requests_total", {
  description: "HTTP requests answered, by method, route and status",
  incremental: true
})
const httpDuration = Metric.histogram(
  "orw_http_request_duration_seconds",
  SECONDS,
  "Time to answer an HTTP request, by method, route and status"
)
const cachedAnswers = Metric.counter("orw_http_answers_cached_total", {
  description: "Public-API answers sent again from the answer cache (the log had not moved), by route",
  incremental: true
})
const eventsAppended = Metric.counter("orw_events_appended_total", {
  description: "Events appended to the log (committed), by type",
  incremental: true
})
const commandsCommitted = Metric.counter("orw_commands_committed_total", {
  description:
    "Commands committed by the group commit, by path: synchronous (SQLite fast path), pipelined (PostgreSQL fast path), client (the rest)",
  incremental: true
})
const syncRuns = Metric.counter("orw_sync_runs_total", {
  description: "Key syncs run, by source (sync fibers, web, api, cli) and outcome (ok, invalid, failed)",
  incremental: true
})
const syncFailures = Metric.counter("orw_sync_failures_total", {
  description: "Key syncs that did not succeed, by source and outcome (invalid, failed)",
  incremental: true
})
const upstreamDuration = Metric.histogram(
  "orw_upstream_request_duration_seconds",
  SECONDS,
  "Time of one OpenRouter request, by endpoint and outcome (HTTP status, timeout, error)"
)

const labelled = <T, In, Out>(metric: Metric.Metric<T, In, Out>, labels: Record<string, string>) =>
  Metric.taggedWithLabels(
    metric,
    Object.entries(labels).map(([key, value]) => MetricLabel.make(key, value))
  )

/** One answered HTTP request. */
export const recordRequest = (method: string, route: string, status: number, seconds: number) => {
  const labels = { method, route, status: String(status) }
  return Effect.zipRight(
    Metric.increment(labelled(httpRequests, labels)),
    Metric.update(labelled(httpDuration, labels), seconds)
  )
}

/** An answer the answer cache sent (see Http/AnswerCache.ts); also counted as a request. */
export const recordCachedAnswer = (route: string) => Metric.increment(labelled(cachedAnswers, { route }))

/** Events committed to the log. */
export const recordAppended = (types: ReadonlyArray<string>) => {
  if (types.length === 0) return Effect.void
  // One update per type and batch (a batch of usage commands is one type many times).
  const counts = new Map<string, number>()
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1)
  return Effect.forEach(counts, ([type, n]) => Metric.incrementBy(appendedOf(type), n), { discard: true })
}

/** The appended counter of each event type, labelled once (the types are the bounded set of DomainEvent tags). */
const appendedByType = new Map<string, Metric.Metric.Counter<number>>()
const appendedOf = (type: string) => {
  const known = appendedByType.get(type)
  if (known !== undefined) return known
  const metric = labelled(eventsAppended, { type })
  appendedByType.set(type, metric)
  return metric
}

/** How a group commit batch ran: see `orw_commands_committed_total`. */
export type CommitPath = "synchronous" | "pipelined" | "client"

const committedByPath = {
  synchronous: labelled(commandsCommitted, { path: "synchronous" }),
  pipelined: labelled(commandsCommitted, { path: "pipelined" }),
  client: labelled(commandsCommitted, { path: "client" })
} as const

/** Commands of one batch committed on `path`. */
export const recordCommitted = (path: CommitPath, n: number) =>
  n === 0 ? Effect.void : Metric.incrementBy(committedByPath[path], n)

/** Commands committed on `path` so far in this process. */
export const committedOn = (path: CommitPath) => Effect.map(Metric.value(committedByPath[path]), (state) => state.count)

/** One key sync and its outcome. */
export const recordSync = (source: string, outcome: string) =>
  Effect.zipRight(
    Metric.increment(labelled(syncRuns, { source, outcome })),
    outcome === "ok" ? Effect.void : Metric.increment(labelled(syncFailures, { source, outcome }))
  )

/** One upstream request: `endpoint` is the path without ids or query (`/key`, `/activity`). */
export const recordUpstream = (endpoint: string, outcome: string, seconds: number) =>
  Metric.update(labelled(upstreamDuration, { endpoint, outcome }), seconds)
