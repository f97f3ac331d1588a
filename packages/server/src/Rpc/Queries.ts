import { SqlClient } from "@effect/sql"
import { microsToUsd } from "@orw/domain"
import { Effect, Option } from "effect"

/* Reads the web RPCs need and the application services do not offer; every query is by the user's id. */

/** The user's password hash, to confirm a destructive action; none when the user is gone. */
export const passwordHashOf = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ password_hash: string }>`SELECT password_hash FROM users WHERE id = ${userId}`
  ).pipe(
    Effect.map((rows) => Option.fromNullable(rows[0]?.password_hash)),
    Effect.orDie
  )

/** The user's keys (id and name), oldest first. */
export const keyNamesOf = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ id: string; name: string }>`SELECT id, name FROM api_keys WHERE user_id = ${userId}
      ORDER BY created_at, id`
  ).pipe(Effect.orDie)

/** The account balance last read through a management key; `null` when unknown (never $0 for unknown). */
export const balanceOf = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{
        total_credits_micros: number | null
        total_usage_micros: number | null
        updated_at: string
      }>`SELECT total_credits_micros, total_usage_micros, updated_at FROM account_balance WHERE user_id = ${userId}`
  ).pipe(
    Effect.map(([row]) =>
      row === undefined || row.total_credits_micros === null || row.total_usage_micros === null
        ? { balance: null, updatedAt: null }
        : { balance: microsToUsd(row.total_credits_micros - row.total_usage_micros), updatedAt: row.updated_at }
    ),
    Effect.orDie
  )
