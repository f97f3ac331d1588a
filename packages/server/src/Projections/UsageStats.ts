import { SqlClient } from "@effect/sql"
import { effectiveLines, type UsageLine } from "@orw/domain"
import { Effect } from "effect"
import { defineProjection, iso } from "./Projection.js"

/**
 * `usage_stats`: absolute totals per (key, date, model), cost in micro-dollars (64-bit). Readers get
 * the effective rows only (the domain's supersede rule, `effectiveLines`).
 */
export const UsageStatsProjection = defineProjection({
  name: "usage_stats",
  version: 1,
  table: "usage_stats",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    api_key_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    date TEXT NOT NULL,
    model TEXT NOT NULL,
    requests_count INTEGER NOT NULL,
    tokens_input BIGINT NOT NULL,
    tokens_output BIGINT NOT NULL,
    cost_micros BIGINT NOT NULL,
    byok_cost_micros BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (api_key_id, date, model)
  )`,
  indexes: ({ sql, table, name }) => [
    sql`CREATE INDEX ${name("by_user_date")} ON ${table} (user_id, date, model)`,
    sql`CREATE INDEX ${name("by_date")} ON ${table} (date)`
  ],
  on: {
    UsageRecorded: (e, { sql, table }) =>
      sql`INSERT INTO ${table} ${sql.insert({
        api_key_id: e.keyId,
        user_id: e.userId,
        date: e.date,
        model: e.model,
        requests_count: e.totals.requests,
        tokens_input: e.totals.tokensInput,
        tokens_output: e.totals.tokensOutput,
        cost_micros: e.totals.cost,
        byok_cost_micros: e.totals.byokCost,
        updated_at: iso(e.at)
      })} ON CONFLICT (api_key_id, date, model) DO UPDATE SET
        requests_count = excluded.requests_count, tokens_input = excluded.tokens_input,
        tokens_output = excluded.tokens_output, cost_micros = excluded.cost_micros,
        byok_cost_micros = excluded.byok_cost_micros, updated_at = excluded.updated_at`,
    KeyDeleted: (e, { sql, table }) => sql`DELETE FROM ${table} WHERE api_key_id = ${e.keyId}`,
    UserDeleted: (e, { sql, table }) => sql`DELETE FROM ${table} WHERE user_id = ${e.userId}`
  }
})

/* ---- Queries: every read of `usage_stats` lives below. ---- */

/** Which usage to read: one user's, optionally one key's, optionally between two dates (inclusive). */
export interface UsageFilter {
  readonly userId: string
  readonly keyId?: string | undefined
  readonly startDate?: string | undefined
  readonly endDate?: string | undefined
}

interface Row {
  readonly api_key_id: string
  readonly date: string
  readonly model: string
  readonly requests: number
  readonly tokens_input: number
  readonly tokens_output: number
  readonly cost_micros: number
}

const toLine = (r: Row): UsageLine => ({
  keyId: r.api_key_id,
  date: r.date,
  model: r.model,
  requests: Number(r.requests),
  tokensInput: Number(r.tokens_input),
  tokensOutput: Number(r.tokens_output),
  cost: Number(r.cost_micros)
})

/** Every recorded line of the given keys (supersede rule not applied: the domain's `keySpend` applies it). */
export const linesOfKeys = (keyIds: ReadonlyArray<string>) =>
  keyIds.length === 0
    ? Effect.succeed<ReadonlyArray<UsageLine>>([])
    : Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<Row>`SELECT api_key_id, date, model, requests_count AS requests, tokens_input, tokens_output,
          cost_micros FROM usage_stats WHERE ${sql.in("api_key_id", keyIds)} ORDER BY date, model, api_key_id`
      ).pipe(
        Effect.map((rows) => rows.map(toLine)),
        Effect.orDie
      )

/**
 * The usage rows that count, ordered by date, model and key: the recorded rows of the filter with the
 * domain's supersede rule applied (a day's `unattributed` row gives way to that day's per-model rows).
 */
export const effectiveUsage = (filter: UsageFilter) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const conditions = [
      sql`user_id = ${filter.userId}`,
      ...(filter.keyId === undefined ? [] : [sql`api_key_id = ${filter.keyId}`]),
      ...(filter.startDate === undefined ? [] : [sql`date >= ${filter.startDate}`]),
      ...(filter.endDate === undefined ? [] : [sql`date <= ${filter.endDate}`])
    ]
    return sql<Row>`SELECT api_key_id, date, model, requests_count AS requests, tokens_input, tokens_output, cost_micros
      FROM usage_stats WHERE ${sql.and(conditions)} ORDER BY date, model, api_key_id`
  }).pipe(
    Effect.map((rows) => effectiveLines(rows.map(toLine))),
    Effect.orDie,
    Effect.withSpan("UsageStats.effectiveUsage")
  )
