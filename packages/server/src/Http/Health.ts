import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Projector } from "../Projector.js"

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
