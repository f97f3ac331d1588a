import { SqlClient } from "@effect/sql"
import { ApiKeyId, microsToUsd } from "@orw/domain"
import { Discrepancy } from "@orw/domain/Api"
import { Effect } from "effect"
import { defineProjection, deleteWhere, insert } from "./Projection.js"

/**
 * `usage_discrepancies`: every difference the daily reconciliation found (UsageDiscrepancyFound), money in
 * micro-dollars. Gone with the key or its owner, like the key's other read rows.
 */
export const DiscrepanciesProjection = defineProjection({
  name: "usage_discrepancies",
  version: 1,
  table: "usage_discrepancies",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    key_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    found_at TEXT NOT NULL,
    scope TEXT NOT NULL,
    date TEXT,
    model TEXT,
    recorded_micros BIGINT NOT NULL,
    upstream_micros BIGINT NOT NULL
  )`,
  indexes: ({ sql, table, name }) => [
    sql`CREATE INDEX ${name("by_key")} ON ${table} (key_id, found_at)`,
    sql`CREATE INDEX ${name("by_user")} ON ${table} (user_id)`
  ],
  on: {
    UsageDiscrepancyFound: insert({
      key_id: (e) => e.keyId,
      user_id: (e) => e.userId,
      found_at: (_, at) => at,
      scope: (e) => e.scope,
      date: (e) => e.date,
      model: (e) => e.model,
      recorded_micros: (e) => e.recorded,
      upstream_micros: (e) => e.upstream
    }),
    KeyDeleted: deleteWhere("key_id", (e) => e.keyId),
    UserDeleted: deleteWhere("user_id", (e) => e.userId)
  }
})

/* ---- Queries: every read of `usage_discrepancies` lives below. ---- */

interface Row {
  readonly key_id: string
  readonly found_at: string
  readonly scope: "day" | "all-time"
  readonly date: string | null
  readonly model: string | null
  readonly recorded_micros: number | string
  readonly upstream_micros: number | string
}

const toDiscrepancy = (r: Row) =>
  new Discrepancy({
    key_id: ApiKeyId.make(r.key_id),
    found_at: r.found_at,
    scope: r.scope,
    date: r.date,
    model: r.model,
    recorded: microsToUsd(Number(r.recorded_micros)),
    upstream: microsToUsd(Number(r.upstream_micros))
  })

/** Found discrepancies, oldest first (in the order found: by time, then day and model), of one key or of all. */
export const list = (options: { readonly keyId?: string | undefined } = {}) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const where = options.keyId === undefined ? sql`1 = 1` : sql`key_id = ${options.keyId}`
    return sql<Row>`SELECT key_id, found_at, scope, date, model, recorded_micros, upstream_micros
      FROM usage_discrepancies WHERE ${where} ORDER BY found_at, key_id, scope DESC, date, model`
  }).pipe(
    Effect.map((rows) => rows.map(toDiscrepancy)),
    Effect.orDie
  )

/**
 * The latest discrepancy of each of `keyIds` that has one: of the latest pass, the all-time finding if there
 * is one, else the first day (the key row shows one notice; `orw discrepancies` lists them all).
 */
export const latestOfKeys = (keyIds: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    keyIds.length === 0
      ? Effect.succeed([])
      : sql<Row>`SELECT key_id, found_at, scope, date, model, recorded_micros, upstream_micros
          FROM usage_discrepancies WHERE ${sql.in("key_id", keyIds)} ORDER BY found_at DESC, scope, date, model`
  ).pipe(
    Effect.map((rows) => {
      const latest = new Map<string, Discrepancy>()
      for (const r of rows) if (!latest.has(r.key_id)) latest.set(r.key_id, toDiscrepancy(r))
      return latest
    }),
    Effect.orDie
  )

/** How many discrepancies were found, by scope, for /metrics. */
export const countByScope = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ scope: string; count: number | string }>`SELECT scope, COUNT(*) AS count FROM usage_discrepancies
    GROUP BY scope ORDER BY scope`
).pipe(
  Effect.map((rows) => rows.map((r) => ({ scope: r.scope, count: Number(r.count) }))),
  Effect.orDie
)
