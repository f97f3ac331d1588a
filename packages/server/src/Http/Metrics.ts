import { HttpApi, HttpApiBuilder, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { OrwApi } from "@orw/domain/Api"
import { WebRpcs } from "@orw/domain/Rpc"
import { Effect, Metric, type MetricKey, type MetricKeyType, MetricState } from "effect"
import * as Alerts from "../Projections/Alerts.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import * as Discrepancies from "../Projections/Discrepancies.js"
import { Projector } from "../Projector.js"
import * as Deliveries from "../SideTables/Deliveries.js"
import * as SyncStatus from "../SideTables/SyncStatus.js"
import { OUTBOX } from "../Webhooks/Outbox.js"

const FIXED_ROUTES = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]
const RPC_TAGS = new Set(WebRpcs.requests.keys())

/**
 * The RPC methods a `POST /rpc` called (the JSON body is one message or an array of them), read from the
 * body the RPC server has already read (the platform caches it). Unknown tags are dropped, so the label
 * set stays the contract's.
 */
export const rpcTags = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const text = yield* request.text
    // A body that is not JSON is refused by the RPC server; here it only has no method to count.
    const parsed: unknown = yield* Effect.try(() => JSON.parse(text) as unknown)
    const messages: ReadonlyArray<unknown> = Array.isArray(parsed) ? parsed : [parsed]
    return messages.flatMap((m) =>
      typeof m === "object" && m !== null && "tag" in m && typeof m.tag === "string" && RPC_TAGS.has(m.tag)
        ? [m.tag]
        : []
    )
  }).pipe(Effect.orElseSucceed(() => []))

/**
 * The route label of a request: the contract's path pattern (`/api/keys/:id`), `/rpc/<Method>` for a web RPC
 * call, a fixed route, `/docs/*`, `static` for the web app's files, else `unmatched` (so unknown paths cannot
 * blow up the label set).
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
  return (method: string, path: string, status: number, rpc: ReadonlyArray<string> = []): string => {
    if (path === "/rpc") return rpc.length === 0 ? "/rpc" : `/rpc/${[...new Set(rpc)].sort().join(",")}`
    const route = routes.find((r) => r.method === method && r.pattern.test(path))
    if (route !== undefined) return route.label
    if (FIXED_ROUTES.includes(path)) return path
    if (path.startsWith("/docs/")) return "/docs/*"
    return status < 400 ? "static" : "unmatched"
  }
}

// --- Prometheus text exposition (format 0.0.4) -------------------------------------------------------

type Labels = ReadonlyArray<readonly [string, string]>

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const number = (value: number | bigint) =>
  typeof value === "bigint"
    ? value.toString()
    : Number.isNaN(value)
      ? "NaN"
      : value === Number.POSITIVE_INFINITY
        ? "+Inf"
        : value === Number.NEGATIVE_INFINITY
          ? "-Inf"
          : String(value)

const sample = (name: string, labels: Labels, value: number | bigint) =>
  `${name}${labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`} ${number(value)}`

/** One metric family: HELP, TYPE, then its samples, every sample of a name together as the format requires. */
class Family {
  readonly lines: Array<string> = []
  constructor(
    readonly name: string,
    readonly type: "counter" | "gauge" | "histogram",
    readonly help: string
  ) {}
  render() {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`, ...this.lines]
  }
}

type Pair = MetricKey.MetricKey<MetricKeyType.MetricKeyType.Untyped>

/** Effect's registry (`orw_*` only): counters, and histograms with cumulative `_bucket{le}`, `_sum`, `_count`. */
const registered = Effect.map(Metric.snapshot, (pairs) => {
  const families = new Map<string, Family>()
  const family = (key: Pair, type: Family["type"]) => {
    const found = families.get(key.name)
    if (found !== undefined) return found
    const made = new Family(key.name, type, key.description._tag === "Some" ? key.description.value : key.name)
    families.set(key.name, made)
    return made
  }
  for (const { metricKey, metricState } of pairs) {
    if (!metricKey.name.startsWith("orw_")) continue
    const labels: Labels = metricKey.tags.map((t) => [t.key, t.value] as const)
    if (MetricState.isCounterState(metricState)) {
      family(metricKey, "counter").lines.push(sample(metricKey.name, labels, metricState.count))
    } else if (MetricState.isHistogramState(metricState)) {
      const f = family(metricKey, "histogram")
      for (const [le, count] of metricState.buckets) {
        f.lines.push(sample(`${metricKey.name}_bucket`, [...labels, ["le", number(le)]], count))
      }
      f.lines.push(sample(`${metricKey.name}_sum`, labels, metricState.sum))
      f.lines.push(sample(`${metricKey.name}_count`, labels, metricState.count))
    }
  }
  return [...families.values()].sort((a, b) => a.name.localeCompare(b.name))
})

const gauge = (
  name: string,
  help: string,
  samples: ReadonlyArray<readonly [Labels, number]>,
  type: Family["type"] = "gauge"
) => {
  const f = new Family(name, type, help)
  for (const [labels, value] of samples) f.lines.push(sample(name, labels, value))
  return f
}

/** Gauges read at scrape time from the database: the log, projection lags, keys, sync state, spend per key. */
const gauges = Effect.gen(function* () {
  const projector = yield* Projector
  const status = yield* projector.status
  const keys = yield* ApiKeys.countByHealth
  const syncs = yield* SyncStatus.countByState
  const spend = yield* ApiKeys.upstreamSpend
  const alerts = yield* Alerts.countsByKind
  const deliveries = yield* Deliveries.countsByStatus
  const discrepancies = yield* Discrepancies.countByScope
  const head = status[0]?.head ?? 0
  const outboxAt = yield* Deliveries.checkpoint(OUTBOX)
  return [
    // Events are never deleted: the log's size only grows, a counter read from the database at scrape time.
    gauge(
      "orw_events_total",
      "Events in the log (the position of the last one)",
      [[[], status[0]?.head ?? 0]],
      "counter"
    ),
    gauge(
      "orw_projection_lag",
      "Events a projection is behind the log",
      status.map((p) => [[["projection", p.name]], p.lag] as const)
    ),
    gauge(
      "orw_keys",
      "Stored OpenRouter keys by status",
      keys.map((k) => [[["status", k.status]], k.count] as const)
    ),
    gauge(
      "orw_key_sync_state",
      "Keys by the outcome of their last sync",
      syncs.map((s) => [[["state", s.state]], s.count] as const)
    ),
    gauge(
      "orw_key_spend_usd",
      "All-time spend of a key as OpenRouter last reported it, in USD (labels: key id and name, never the key)",
      spend.map((k) => [
        [
          ["key_id", k.id],
          ["key_name", k.name]
        ],
        k.usageTotal
      ])
    ),
    gauge(
      "orw_alerts_fired",
      "Alerts fired, by kind (from the alerts read model: survives restarts)",
      (["threshold", "forecast", "spike"] as const).map(
        (kind) => [[["kind", kind]], Number(alerts.find((a) => a.kind === kind)?.n ?? 0)] as const
      )
    ),
    // Findings are events, never deleted but with their key: a counter read from the read model (survives restarts).
    gauge(
      "orw_usage_discrepancies_total",
      "Differences over $0.000001 the daily reconciliation found between recorded figures and OpenRouter's, by scope",
      (["day", "all-time"] as const).map(
        (scope) => [[["scope", scope]], discrepancies.find((d) => d.scope === scope)?.count ?? 0] as const
      ),
      "counter"
    ),
    gauge(
      "orw_webhook_deliveries",
      "Webhook deliveries by result",
      (["pending", "delivered", "failed"] as const).map(
        (result) => [[["result", result]], Number(deliveries.find((d) => d.status === result)?.n ?? 0)] as const
      )
    ),
    gauge("orw_webhook_outbox_lag", "Events the webhook outbox has not read yet", [[[], Math.max(0, head - outboxAt)]])
  ]
})

/** GET /metrics: Prometheus text exposition. */
export const MetricsRoute = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<SqlClient.SqlClient | Projector>()
    yield* router.get(
      "/metrics",
      Effect.gen(function* () {
        const families = [...(yield* registered), ...(yield* gauges)]
        const text = families.flatMap((f) => f.render()).join("\n")
        return HttpServerResponse.text(`${text}\n`, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
      }).pipe(Effect.orDie, Effect.provide(context))
    )
  })
)
