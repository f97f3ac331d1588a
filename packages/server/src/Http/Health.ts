import * as NodeCrypto from "node:crypto"
import type * as NodeHttp from "node:http"
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { validateHost } from "../Config.js"
import { Projector } from "../Projector.js"
import { securityHeaders } from "./Security.js"

/** 503 with a `{"detail"}` body. */
const notReady = (detail: string) => HttpServerResponse.unsafeJson({ detail }, { status: 503 })

/**
 * Ready when the database answers, its migrations have run, and every projection is at its code's
 * version with no lag behind the log.
 */
const readiness = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const projector = yield* Projector
  const migrations = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM effect_sql_migrations`
  if (Number(migrations[0]?.n ?? 0) === 0) return notReady("Database migrations have not run")
  const projections = yield* projector.status
  const behind = projections.filter((p) => p.lag !== 0 || p.storedVersion !== p.codeVersion)
  if (behind.length > 0) {
    return notReady(`Projections are catching up: ${behind.map((p) => `${p.name} (lag ${p.lag})`).join(", ")}`)
  }
  return HttpServerResponse.unsafeJson({
    status: "ready",
    events: projections[0]?.head ?? 0,
    projections: projections.map((p) => ({ name: p.name, version: p.codeVersion, lag: p.lag }))
  })
}).pipe(
  Effect.catchAllCause((cause) =>
    Effect.as(Effect.logWarning("readiness check failed", cause), notReady("Database unavailable"))
  )
)

/** GET /healthz (the process answers) and GET /readyz (the database is open, migrated and projected). */
export const HealthRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const context = yield* Effect.context<SqlClient.SqlClient | Projector>()
    yield* router.get("/healthz", Effect.succeed(HttpServerResponse.unsafeJson({ status: "ok" })))
    yield* router.get("/readyz", Effect.provide(readiness, context))
  })
)

const ALIVE = JSON.stringify({ status: "ok" })

/**
 * `GET`/`HEAD /healthz` answered straight on the Node request, before the Effect runtime and the router
 * (a liveness probe polled every few seconds by every orchestrator should cost next to nothing): the
 * same answer as the route above (body, security headers, `X-Request-Id`), neither logged nor counted.
 * Anything else, a Host not in ALLOWED_HOSTS included, goes on to the app, which answers it as before.
 */
export const healthProbe = (allowedHosts: ReadonlyArray<string>) => {
  const headers = {
    ...securityHeaders("/healthz"),
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(ALIVE))
  }
  return (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse): boolean => {
    const url = request.url ?? ""
    if (url !== "/healthz" && !url.startsWith("/healthz?")) return false
    if (request.method !== "GET" && request.method !== "HEAD") return false
    if (!validateHost(request.headers.host, allowedHosts)) return false
    request.resume()
    response.writeHead(200, { ...headers, "x-request-id": NodeCrypto.randomUUID() })
    response.end(request.method === "HEAD" ? undefined : ALIVE)
    return true
  }
}
