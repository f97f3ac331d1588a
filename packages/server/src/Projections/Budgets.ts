import { SqlClient } from "@effect/sql"
import { ApiKeyId, BudgetId, type BudgetPeriod, type BudgetScope, UserId } from "@orw/domain"
import { Effect, Option } from "effect"
import type { PgStatement } from "../PgPipeline.js"
import { SqliteHandle } from "../SqliteClient.js"
import { defineProjection, deleteWhere, insert, toPg, write } from "./Projection.js"

/**
 * `budgets`: the users' live budgets (amount in micro-dollars, thresholds as a JSON array). Spent and
 * projected are not stored: they are computed on read from the usage read model, as `/api/v1/stats` is.
 */
export const BudgetsProjection = defineProjection({
  name: "budgets",
  version: 1,
  table: "budgets",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key_id TEXT,
    amount_micros BIGINT NOT NULL,
    period TEXT NOT NULL,
    thresholds TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
  indexes: ({ sql, table, name }) => [sql`CREATE INDEX ${name("by_user")} ON ${table} (user_id)`],
  on: {
    BudgetCreated: insert({
      id: (e) => e.budgetId,
      user_id: (e) => e.userId,
      scope: (e) => e.scope,
      key_id: (e) => e.keyId,
      amount_micros: (e) => e.amount,
      period: (e) => e.period,
      thresholds: (e) => JSON.stringify(e.thresholds),
      created_at: (_, at) => at,
      updated_at: (_, at) => at
    }),
    BudgetChanged: write(
      (t) => `UPDATE ${t} SET amount_micros = ?, thresholds = ?, updated_at = ? WHERE id = ?`,
      (e, at) => [e.amount, JSON.stringify(e.thresholds), at, e.budgetId]
    ),
    BudgetDeleted: deleteWhere("id", (e) => e.budgetId),
    KeyDeleted: deleteWhere("key_id", (e) => e.keyId),
    UserDeleted: deleteWhere("user_id", (e) => e.userId)
  }
})

/* ---- Queries: every read of `budgets` lives below. ---- */

export interface BudgetRecord {
  readonly id: BudgetId
  readonly userId: UserId
  readonly scope: BudgetScope
  readonly keyId: ApiKeyId | null
  readonly amount: number
  readonly period: BudgetPeriod
  readonly thresholds: ReadonlyArray<number>
  readonly createdAt: string
}

interface Row {
  readonly id: string
  readonly user_id: string
  readonly scope: string
  readonly key_id: string | null
  readonly amount_micros: number
  readonly period: string
  readonly thresholds: string
  readonly created_at: string
}

const toRecord = (r: Row): BudgetRecord => ({
  id: BudgetId.make(r.id),
  userId: UserId.make(r.user_id),
  scope: r.scope as BudgetScope,
  keyId: r.key_id === null ? null : ApiKeyId.make(r.key_id),
  amount: Number(r.amount_micros),
  period: r.period as BudgetPeriod,
  thresholds: JSON.parse(r.thresholds) as Array<number>,
  createdAt: r.created_at
})

/** The user's budgets: account ones first, then by key, period and creation. */
export const ofUser = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<Row>`SELECT * FROM budgets WHERE user_id = ${userId}
      ORDER BY scope, key_id, CASE period WHEN 'daily' THEN 0 WHEN 'weekly' THEN 1 ELSE 2 END, created_at, id`
  ).pipe(
    Effect.map((rows) => rows.map(toRecord)),
    Effect.orDie
  )

export const byId = (budgetId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<Row>`SELECT * FROM budgets WHERE id = ${budgetId}`).pipe(
    Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toRecord)),
    Effect.orDie
  )

const TOUCHING = "SELECT id FROM budgets WHERE user_id = ? AND (scope = 'account' OR key_id = ?) ORDER BY id"
const TOUCHING_PG = toPg(TOUCHING)

/**
 * PostgreSQL: {@link touching} as a statement sent with the usage's own writes, in its transaction (the group
 * commit's pipelined batch): the budgets as that commit leaves them. {@link touchingOf} reads its answer.
 */
export const touchingPg = (userId: string, keyId: string): PgStatement => ({
  text: TOUCHING_PG,
  params: [userId, keyId]
})

export const touchingOf = (rows: ReadonlyArray<Record<string, unknown>>): ReadonlyArray<BudgetId> =>
  rows.map((r) => BudgetId.make(String(r.id)))

/** {@link touching} on an SQLite connection, synchronously (the caller holds it, or knows no transaction is open). */
export const touchingOn = (
  prepare: (sql: string) => { all: (...params: Array<unknown>) => Array<unknown> },
  userId: string,
  keyId: string
): ReadonlyArray<BudgetId> =>
  (prepare(TOUCHING).all(userId, keyId) as ReadonlyArray<{ readonly id: string }>).map((r) => BudgetId.make(r.id))

/**
 * The budgets that usage of `keyId` (owned by `userId`) counts toward: its own and the account's. Read after
 * every usage command: on SQLite as one synchronous step on the connection (no statement machinery each time).
 */
export const touching = (
  userId: string,
  keyId: string
): Effect.Effect<ReadonlyArray<BudgetId>, never, SqlClient.SqlClient> =>
  Effect.flatMap(Effect.serviceOption(SqliteHandle), (sqlite) =>
    (Option.isSome(sqlite)
      ? sqlite.value.use((_, prepare) => touchingOn(prepare, userId, keyId))
      : Effect.flatMap(SqlClient.SqlClient, (sql) =>
          Effect.map(
            sql.unsafe<{ readonly id: string }>(
              sql.onDialectOrElse({ pg: () => TOUCHING_PG, orElse: () => TOUCHING }),
              [userId, keyId]
            ),
            (rows) => rows.map((r) => BudgetId.make(r.id))
          )
        )
    ).pipe(Effect.orDie)
  )

/** Every budget id (the catch-up after a restart decides them all again). */
export const allIds = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ id: string }>`SELECT id FROM budgets`).pipe(
  Effect.map((rows) => rows.map((r) => BudgetId.make(r.id))),
  Effect.orDie
)
