import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { type KeySpend, UsageEvents, type UsageFiguresSum, type UsageLine, zeroSum } from "@orw/domain"
import { Effect } from "effect"
import { byteOrder } from "../Dialect.js"
import { defineProjection, deleteWhere, insert } from "./Projection.js"

/**
 * `usage_stats`: absolute totals per (key, date, model), cost in micro-dollars (64-bit). Readers get
 * sums of the effective rows only: the domain's supersede rule (`effectiveLines`) as a `NOT EXISTS`,
 * tested against the domain function (packages/server/test/Projections/UsageStats.test.ts).
 */
export const UsageStatsProjection = defineProjection({
  name: "usage_stats",
  // 2: covering indexes for the SQL-side sums (every read groups in SQL, none loads the rows).
  version: 2,
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
    // Cover the reads below (no table lookups): a user's rows by date (ranges, per-day and per-(date, model)
    // groups) and by model (the per-model sums, grouped in index order).
    sql`CREATE INDEX ${name("by_user_date")} ON ${table}
      (user_id, date, model, api_key_id, requests_count, tokens_input, tokens_output, cost_micros)`,
    sql`CREATE INDEX ${name("by_user_model")} ON ${table}
      (user_id, model, date, api_key_id, requests_count, tokens_input, tokens_output, cost_micros)`,
    sql`CREATE INDEX ${name("by_date")} ON ${table} (date)`
  ],
  on: {
    UsageRecorded: insert(
      {
        api_key_id: (e) => e.keyId,
        user_id: (e) => e.userId,
        date: (e) => e.date,
        model: (e) => e.model,
        requests_count: (e) => e.totals.requests,
        tokens_input: (e) => e.totals.tokensInput,
        tokens_output: (e) => e.totals.tokensOutput,
        cost_micros: (e) => e.totals.cost,
        byok_cost_micros: (e) => e.totals.byokCost,
        updated_at: (_, at) => at
      },
      `ON CONFLICT (api_key_id, date, model) DO UPDATE SET
        requests_count = excluded.requests_count, tokens_input = excluded.tokens_input,
        tokens_output = excluded.tokens_output, cost_micros = excluded.cost_micros,
        byok_cost_micros = excluded.byok_cost_micros, updated_at = excluded.updated_at`
    ),
    KeyDeleted: deleteWhere("api_key_id", (e) => e.keyId),
    UserDeleted: deleteWhere("user_id", (e) => e.userId)
  }
})

/* ---- Queries: every read of `usage_stats` lives below; each sums in SQL, exact integers. ---- */

/** Which usage to read: one user's, optionally one key's, optionally between two dates (inclusive). */
export interface UsageFilter {
  readonly userId: string
  readonly keyId?: string | undefined
  readonly startDate?: string | undefined
  readonly endDate?: string | undefined
}

/** The sums every grouped read selects (PostgreSQL's SUM of BIGINT is NUMERIC: Sql.ts reads it as a number). */
const SUMS = `SUM(u.requests_count) AS requests, SUM(u.tokens_input) AS tokens_input,
  SUM(u.tokens_output) AS tokens_output, SUM(u.cost_micros) AS cost_micros`

interface SumRow {
  readonly requests: number | null
  readonly tokens_input: number | null
  readonly tokens_output: number | null
  readonly cost_micros: number | null
}

const toSum = (r: SumRow): UsageFiguresSum => ({
  requests: Number(r.requests ?? 0),
  tokensInput: Number(r.tokens_input ?? 0),
  tokensOutput: Number(r.tokens_output ?? 0),
  cost: Number(r.cost_micros ?? 0)
})

/**
 * The supersede rule of `effectiveLines` for a row `u`: an `unattributed` row counts only while its
 * (key, date) has no per-model row. The rule looks only within a (key, date), and every filter keeps or
 * drops a (key, date) whole, so filtering first or after gives the same rows.
 */
const effective = (sql: SqlClient.SqlClient) =>
  sql`(u.model <> ${UsageEvents.UNATTRIBUTED} OR NOT EXISTS (SELECT 1 FROM usage_stats a
    WHERE a.api_key_id = u.api_key_id AND a.date = u.date AND a.model <> ${UsageEvents.UNATTRIBUTED}))`

const where = (sql: SqlClient.SqlClient, filter: UsageFilter) =>
  sql.and([
    sql`u.user_id = ${filter.userId}`,
    ...(filter.keyId === undefined ? [] : [sql`u.api_key_id = ${filter.keyId}`]),
    ...(filter.startDate === undefined ? [] : [sql`u.date >= ${filter.startDate}`]),
    ...(filter.endDate === undefined ? [] : [sql`u.date <= ${filter.endDate}`]),
    effective(sql)
  ])

const run = <A>(name: string, query: (sql: SqlClient.SqlClient) => Effect.Effect<A, SqlError>) =>
  Effect.flatMap(SqlClient.SqlClient, query).pipe(Effect.orDie, Effect.withSpan(`UsageStats.${name}`))

/** The effective sum of the filter's rows (a budget's spent figure). */
export const total = (filter: UsageFilter) =>
  run("total", (sql) =>
    Effect.map(sql<SumRow>`SELECT ${sql.literal(SUMS)} FROM usage_stats u WHERE ${where(sql, filter)}`, (rows) =>
      rows[0] === undefined ? zeroSum() : toSum(rows[0])
    )
  )

/** Effective sums per model (in no particular order). */
export const byModel = (filter: UsageFilter) =>
  run("byModel", (sql) =>
    Effect.map(
      sql<SumRow & { readonly model: string }>`SELECT u.model AS model, ${sql.literal(SUMS)}
        FROM usage_stats u WHERE ${where(sql, filter)} GROUP BY u.model`,
      (rows) => rows.map((r) => ({ model: r.model, sum: toSum(r) }))
    )
  )

/** Effective sums per key, by key id. */
export const byKey = (filter: UsageFilter) =>
  run("byKey", (sql) =>
    Effect.map(
      sql<SumRow & { readonly api_key_id: string }>`SELECT u.api_key_id AS api_key_id, ${sql.literal(SUMS)}
        FROM usage_stats u WHERE ${where(sql, filter)} GROUP BY u.api_key_id`,
      (rows) => new Map(rows.map((r) => [r.api_key_id, toSum(r)]))
    )
  )

/** Effective sums per date, by date, and whether any of that date's effective rows is `unattributed`. */
export const byDay = (filter: UsageFilter) =>
  run("byDay", (sql) =>
    Effect.map(
      sql<SumRow & { readonly date: string; readonly unattributed: number }>`SELECT u.date AS date,
        ${sql.literal(SUMS)}, MAX(CASE WHEN u.model = ${UsageEvents.UNATTRIBUTED} THEN 1 ELSE 0 END) AS unattributed
        FROM usage_stats u WHERE ${where(sql, filter)} GROUP BY u.date`,
      (rows) => new Map(rows.map((r) => [r.date, { sum: toSum(r), unattributed: Number(r.unattributed) === 1 }]))
    )
  )

/** One page of effective sums per (date, model), ordered by date then model, and how many groups there are. */
export const byDateModel = (filter: UsageFilter, page: { readonly offset: number; readonly limit: number }) =>
  run("byDateModel", (sql) =>
    Effect.all({
      rows: sql<SumRow & { readonly date: string; readonly model: string }>`SELECT u.date AS date, u.model AS model,
        ${sql.literal(SUMS)} FROM usage_stats u WHERE ${where(sql, filter)}
        GROUP BY u.date, u.model ORDER BY u.date, ${byteOrder(sql, "u.model")} LIMIT ${page.limit} OFFSET ${page.offset}`,
      count: sql<{ readonly n: number }>`SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM usage_stats u
        WHERE ${where(sql, filter)} GROUP BY u.date, u.model) g`
    }).pipe(
      Effect.map(({ rows, count }) => ({
        items: rows.map((r) => ({ date: r.date, model: r.model, sum: toSum(r) })),
        total: Number(count[0]?.n ?? 0)
      }))
    )
  )

/** Each key's spend as `keySpend` defines it (the effective sums of `today` and of all time), by key id. */
export const spendOfKeys = (keyIds: ReadonlyArray<string>, today: string) =>
  keyIds.length === 0
    ? Effect.succeed(new Map<string, KeySpend>())
    : run("spendOfKeys", (sql) => {
        const ofToday = (column: string) =>
          sql`SUM(CASE WHEN u.date = ${today} THEN u.${sql.literal(column)} ELSE 0 END)`
        return Effect.map(
          sql<
            SumRow & {
              readonly api_key_id: string
              readonly t_requests: number | null
              readonly t_tokens_input: number | null
              readonly t_tokens_output: number | null
              readonly t_cost_micros: number | null
            }
          >`SELECT u.api_key_id AS api_key_id, ${sql.literal(SUMS)}, ${ofToday("requests_count")} AS t_requests,
            ${ofToday("tokens_input")} AS t_tokens_input, ${ofToday("tokens_output")} AS t_tokens_output,
            ${ofToday("cost_micros")} AS t_cost_micros
            FROM usage_stats u WHERE u.api_key_id IN ${sql.in(keyIds)} AND ${effective(sql)} GROUP BY u.api_key_id`,
          (rows) =>
            new Map(
              rows.map((r): [string, KeySpend] => [
                r.api_key_id,
                {
                  total: toSum(r),
                  today: toSum({
                    requests: r.t_requests,
                    tokens_input: r.t_tokens_input,
                    tokens_output: r.t_tokens_output,
                    cost_micros: r.t_cost_micros
                  })
                }
              ])
            )
        )
      })

/** Every recorded line of some keys, unsummed and unfiltered: what the property test feeds the domain's rule. */
export const linesOfKeys = (keyIds: ReadonlyArray<string>) =>
  keyIds.length === 0
    ? Effect.succeed<ReadonlyArray<UsageLine>>([])
    : run("linesOfKeys", (sql) =>
        Effect.map(
          sql<SumRow & { readonly api_key_id: string; readonly date: string; readonly model: string }>`SELECT
            u.api_key_id AS api_key_id, u.date AS date, u.model AS model, u.requests_count AS requests,
            u.tokens_input AS tokens_input, u.tokens_output AS tokens_output, u.cost_micros AS cost_micros
            FROM usage_stats u WHERE u.api_key_id IN ${sql.in(keyIds)} ORDER BY u.date, ${byteOrder(sql, "u.model")}, u.api_key_id`,
          (rows) => rows.map((r): UsageLine => ({ keyId: r.api_key_id, date: r.date, model: r.model, ...toSum(r) }))
        )
      )

/** The effective rows of the filter themselves (supersede rule in SQL), ordered by date, model and key. */
export const effectiveUsage = (filter: UsageFilter) =>
  run("effectiveUsage", (sql) =>
    Effect.map(
      sql<SumRow & { readonly api_key_id: string; readonly date: string; readonly model: string }>`SELECT
        u.api_key_id AS api_key_id, u.date AS date, u.model AS model, u.requests_count AS requests,
        u.tokens_input AS tokens_input, u.tokens_output AS tokens_output, u.cost_micros AS cost_micros
        FROM usage_stats u WHERE ${where(sql, filter)} ORDER BY u.date, ${byteOrder(sql, "u.model")}, u.api_key_id`,
      (rows) => rows.map((r): UsageLine => ({ keyId: r.api_key_id, date: r.date, model: r.model, ...toSum(r) }))
    )
  )
