import * as NodeCrypto from "node:crypto"
import { HttpApi, HttpMethod } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"

/** Whether the suites run at soak size (`pnpm test:soak`), else the fast size of the normal `vitest run`. */
export const SOAK = process.env.ORW_SOAK === "1"

/**
 * The tables a rejected request must leave as they were: the log, the streams, every read model and the
 * vault. `token_usage` (a token's last use, written when a token authenticates, before the request is
 * decoded) is left out on purpose.
 */
export const STATE_TABLES = [
  "events",
  "streams",
  "users",
  "api_keys",
  "api_tokens",
  "usage_stats",
  "key_vault",
  "key_sync",
  "account_balance",
  "ended_sessions",
  "idempotency"
] as const

/** A digest of every row of {@link STATE_TABLES}, in a fixed order. */
export const stateDigest = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const hash = NodeCrypto.createHash("sha256")
  for (const table of STATE_TABLES) {
    const rows = yield* sql.unsafe<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY 1`)
    hash.update(`${table}:${JSON.stringify(rows)}\n`)
  }
  return hash.digest("hex")
}).pipe(Effect.orDie)

/** One route of the JSON and v1 API, as the OpenAPI document (HttpApi.reflect) describes it. */
export interface ApiRoute {
  readonly group: string
  readonly name: string
  readonly method: HttpMethod.HttpMethod
  /** `/api/keys/:id` */
  readonly path: string
  readonly params: ReadonlyArray<string>
  readonly hasBody: boolean
  /** The security middleware that guards it: a session, an API token, or none (login, register). */
  readonly auth: "session" | "token" | "none"
}

/** Every route of {@link OrwApi}: a new endpoint is in this list without editing a test. */
export const apiRoutes = (): ReadonlyArray<ApiRoute> => {
  const routes: Array<ApiRoute> = []
  HttpApi.reflect(OrwApi, {
    onGroup: () => {},
    onEndpoint: ({ group, endpoint, payloads, middleware }) => {
      const keys = [...middleware].map((tag) => tag.key)
      routes.push({
        group: group.identifier,
        name: endpoint.name,
        method: endpoint.method,
        path: endpoint.path,
        params: [...endpoint.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] ?? ""),
        hasBody: HttpMethod.hasBody(endpoint.method) && payloads.size > 0,
        auth: keys.some((k) => k.includes("SessionAuth"))
          ? "session"
          : keys.some((k) => k.includes("ApiTokenAuth"))
            ? "token"
            : "none"
      })
    }
  })
  return routes
}

export const fillPath = (route: ApiRoute, value: (param: string) => string) =>
  route.path.replace(/:([A-Za-z_]+)/g, (_, name: string) => encodeURIComponent(value(name)))
