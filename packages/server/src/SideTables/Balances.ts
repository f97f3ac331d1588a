import { SqlClient } from "@effect/sql"
import { type Micros, microsToUsd } from "@orw/domain"
import { Effect } from "effect"

/**
 * `account_balance`: each user's OpenRouter credits and usage as last read through a management key
 * (`GET /credits`). Not an event: it is a reading of upstream, overwritten each sync. The only module
 * that reads or writes the table.
 */

/** A user's balance; `null` when unknown (no management key, or upstream would not say) — never $0. */
export interface Balance {
  readonly balance: number | null
  readonly updatedAt: string | null
}

/** Records what `/credits` said; `null` figures = unknown. */
export const record = (
  userId: string,
  figures: { readonly totalCredits: Micros; readonly totalUsage: Micros } | null,
  at: string
) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO account_balance ${sql.insert({
      user_id: userId,
      total_credits_micros: figures?.totalCredits ?? null,
      total_usage_micros: figures?.totalUsage ?? null,
      updated_at: at
    })} ON CONFLICT (user_id) DO UPDATE SET total_credits_micros = excluded.total_credits_micros,
      total_usage_micros = excluded.total_usage_micros, updated_at = excluded.updated_at`
  ).pipe(Effect.asVoid, Effect.orDie)

/** The user's balance in USD (credits − usage), if known. */
export const of = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{
        total_credits_micros: number | null
        total_usage_micros: number | null
        updated_at: string
      }>`SELECT total_credits_micros, total_usage_micros, updated_at FROM account_balance WHERE user_id = ${userId}`
  ).pipe(
    Effect.map(
      ([row]): Balance =>
        row === undefined || row.total_credits_micros === null || row.total_usage_micros === null
          ? { balance: null, updatedAt: null }
          : {
              balance: microsToUsd(Number(row.total_credits_micros) - Number(row.total_usage_micros)),
              updatedAt: row.updated_at
            }
    ),
    Effect.orDie
  )
