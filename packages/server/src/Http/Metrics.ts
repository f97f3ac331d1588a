import { HttpApi, HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { OrwApi } from "@orw/domain/Api"
import { Effect, Metric, MetricLabel, MetricState } from "effect"
import * as Alerts from "../Projections/Alerts.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import { Projector } from "../Projector.js"
import * as Deliveries from "../SideTables/Deliveries.js"
import * as SyncStatus from "../SideTables/SyncStatus.js"
import { OUTBOX } from "../Webhooks/Outbox.js"

const httpRequests = Metric.counter("orw_http_requests_total", {
  description: "HTTP requests by method, route and status",
  incremental: true
})
const keySyncs = Metric.counter("orw_key_syncs_total", {
  description: "Syncs run through POST /api/keys/{id}/sync, by outcome",
  incremental: true
})

/** Counts one answered request. */
export const countRequest = (method: string, route: string, status: number) =>
  Metric.increment(
    Metric.taggedWithLabels(httpRequests, [
      MetricLabel.make("method", method),
      MetricLabel.make("route", route),
      MetricLabel.make("status", String(status))
    ])
  )

/** Counts one on-demand sync. */
export const countSync = (outcome: string) =>
  Metric.increment(Metric.taggedWithLabels(keySyncs, [MetricLabel.make("outcome", outcome)]))

const FIXED_ROUTES = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]

/**
 * The route label of a request: the contract's path pattern (`/api/keys/:id`), a fixed route, `/docs/*`,
 * `static` for the web app's files, else `unmatched` (so unknown paths cannot blow up the label set).
 */
export const routeLabeler = () => {
  const routes: Array<{ readonly method: string; readonly pattern: RegExp; readonly label: string }> = []
  HttpApi.reflect(OrwApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) =>
      routes.push({
        method: endpoint.method,
        pattern: new RegExp(`^${endpoint.path.replace(/:[^/]+/g, "[^/]+")}$`),
        label: endpoint.path
      })
  })
  return (method: string, path: string, status: number): string => {
    const route = routes.find((r) => r.method === method && r.pattern.test(path))
    if (route !== undefined) return route.label
    if (FIXED_ROUTES.includes(path)) return path
    if (path.startsWith("/docs/")) return "/docs/*"
    return status < 400 ? "static" : "unmatched"
  }
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

const sample = (name: string, labels: ReadonlyArray<readonly [string, string]>, value: number | bigint) =>
  `${name}${labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`} ${value}`

/** The `orw_*` counters of Effect's metric registry, in Prometheus text format. */
const counters = Effect.map(Metric.snapshot, (pairs) => {
  const byName = new Map<string, Array<string>>()
  for (const { metricKey, metricState } of pairs) {
    if (!metricKey.name.startsWith("orw_") || !MetricState.isCounterState(metricState)) continue
    const lines = byName.get(metricKey.name) ?? [
      `# HELP ${metricKey.name} ${metricKey.description._tag === "Some" ? metricKey.description.value : metricKey.name}`,
      `# TYPE ${metricKey.name} counter`
    ]
    lines.push(
      sample(
        metricKey.name,
        metricKey.tags.map((t) => [t.key, t.value] as const),
        metricState.count
      )
    )
    byName.set(metricKey.name, lines)
  }
  return [...byName.values()].flat()
})

const gauge = (name: string, help: string, samples: ReadonlyArray<string>) => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} gauge`,
  ...samples
]

/** Gauges read at scrape time: the log, projection lags, keys by status and sync state. */
const gauges = Effect.gen(function* () {
  const projector = yield* Projector
  const status = yield* projector.status
  const keys = yield* ApiKeys.countByHealth
  const syncs = yield* SyncStatus.countByState
  const alerts = yield* Alerts.countsByKind
  const deliveries = yield* Deliveries.countsByStatus
  const head = status[0]?.head ?? 0
  const outboxAt = yield* Deliveries.checkpoint(OUTBOX)
  return [
    ...gauge("orw_events_total", "Events in the log", [sample("orw_events_total", [], status[0]?.head ?? 0)]),
    ...gauge(
      "orw_projection_lag",
      "Events a projection is behind the log",
      status.map((p) => sample("orw_projection_lag", [["projection", p.name]], p.lag))
    ),
    ...gauge(
      "orw_keys",
      "Stored OpenRouter keys by status",
      keys.map((k) => sample("orw_keys", [["status", k.status]], k.count))
    ),
    ...gauge(
      "orw_key_sync_state",
      "Keys by the outcome of their last sync",
      syncs.map((s) => sample("orw_key_sync_state", [["state", s.state]], s.count))
    ),
    ...gauge(
      "orw_alerts_fired",
      "Alerts fired, by kind (from the alerts read model: survives restarts)",
      (["threshold", "forecast", "spike"] as const).map((kind) =>
        sample("orw_alerts_fired", [["kind", kind]], Number(alerts.find((a) => a.kind === kind)?.n ?? 0))
      )
    ),
    ...gauge(
      "orw_webhook_deliveries",
      "Webhook deliveries by result",
      (["pending", "delivered", "failed"] as const).map((result) =>
        sample(
          "orw_webhook_deliveries",
          [["result", result]],
          Number(deliveries.find((d) => d.status === result)?.n ?? 0)
        )
      )
    ),
    ...gauge("orw_webhook_outbox_lag", "Events the webhook outbox has not read yet", [
      sample("orw_webhook_outbox_lag", [], Math.max(0, head - outboxAt))
    ])
  ]
})

/** GET /metrics: Prometheus text exposition. */
export const MetricsRoute = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<SqlClient.SqlClient | Projector>()
    yield* router.get(
      "/metrics",
      Effect.gen(function* () {
        const lines = [...(yield* counters), ...(yield* gauges)]
        return HttpServerResponse.text(`${lines.join("\n")}\n`, { contentType: "text/plain; version=0.0.4" })
      }).pipe(Effect.orDie, Effect.provide(context))
    )
  })
)
