import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { microsToUsd } from "@orw/domain"
import { KeyRow, type KeyStatus } from "@orw/domain/Api"
import { Effect, Option } from "effect"

interface Row {
  readonly id: string
  readonly user_id: string
  readonly name: string
  readonly label: string
  readonly is_active: number
  readonly is_invalid: number
  readonly is_failing: number
  readonly is_management_key: number | null
  readonly created_at: string
  readonly last_used_at: string | null
  readonly last_synced_at: string | null
  readonly last_error: string | null
  readonly limit_micros: number | null
  readonly limit_remaining_micros: number | null
  readonly limit_reset: string | null
  readonly usage_daily_micros: number | null
  readonly usage_weekly_micros: number | null
  readonly usage_monthly_micros: number | null
  readonly usage_total_micros: number | null
}

/** `inactive` when switched off, else `invalid`, else `failing`, else `active`. */
export const keyStatus = (row: Pick<Row, "is_active" | "is_invalid" | "is_failing">): KeyStatus =>
  row.is_active === 0 ? "inactive" : row.is_invalid === 1 ? "invalid" : row.is_failing === 1 ? "failing" : "active"

const usd = (micros: number | null) => (micros === null ? null : microsToUsd(micros))

const toKeyRow = (row: Row) =>
  new KeyRow({
    id: row.id,
    name: row.name,
    label: row.label,
    is_active: row.is_active === 1,
    status: keyStatus(row),
    is_management_key: row.is_management_key === null ? null : row.is_management_key === 1,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    last_synced_at: row.last_synced_at,
    last_error: row.last_error,
    limit: usd(row.limit_micros),
    limit_remaining: usd(row.limit_remaining_micros),
    limit_reset: row.limit_reset,
    usage_daily: usd(row.usage_daily_micros),
    usage_weekly: usd(row.usage_weekly_micros),
    usage_monthly: usd(row.usage_monthly_micros),
    usage_total: usd(row.usage_total_micros)
  })

/**
 * Key rows from the `api_keys` projection and the `key_sync` side table. A sync error of key_sync is
 * shown only when it is newer than the key's last change (re-activating a key clears its error).
 */
const select = (sql: SqlClient.SqlClient, where: Fragment) =>
  sql<Row>`SELECT k.id, k.user_id, k.name, k.label, k.is_active, k.is_invalid, k.is_failing, k.is_management_key,
    k.created_at, k.last_used_at, s.last_synced_at,
    COALESCE(k.last_error, CASE WHEN s.last_attempt_at >= k.updated_at THEN s.last_error END) AS last_error,
    k.limit_micros, k.limit_remaining_micros, k.limit_reset, k.usage_daily_micros, k.usage_weekly_micros,
    k.usage_monthly_micros, k.usage_total_micros
    FROM api_keys k LEFT JOIN key_sync s ON s.key_id = k.id WHERE ${where} ORDER BY k.created_at, k.id`

/** The rows of a user's keys, oldest first. */
export const keyRowsOf = (userId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => select(sql, sql`k.user_id = ${userId}`)).pipe(
    Effect.map((rows) => rows.map(toKeyRow)),
    Effect.orDie
  )

/** One key's row and its owner, if the key exists. */
export const keyRow = (keyId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => select(sql, sql`k.id = ${keyId}`)).pipe(
    Effect.map((rows) =>
      Option.map(Option.fromNullable(rows[0]), (row) => ({ owner: row.user_id, row: toKeyRow(row) }))
    ),
    Effect.orDie
  )
