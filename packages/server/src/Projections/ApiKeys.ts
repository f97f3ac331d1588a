import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Match } from "effect"
import type { Projection } from "./Projection.js"
import { iso } from "./Projection.js"

/**
 * `api_keys`: the user's stored keys with what the last recorded upstream status said.
 * Money columns are micro-dollars. `status` is derived on read from the flags.
 */
export const ApiKeysProjection: Projection = {
  name: "api_keys",
  version: 1,
  table: "api_keys",
  create: (table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`CREATE TABLE ${sql(table)} (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        key_hash TEXT NOT NULL,
        key_ciphertext TEXT NOT NULL,
        is_active INTEGER NOT NULL,
        is_invalid INTEGER NOT NULL,
        is_failing INTEGER NOT NULL,
        last_error TEXT,
        is_management_key INTEGER,
        limit_micros INTEGER,
        limit_remaining_micros INTEGER,
        limit_reset TEXT,
        usage_total_micros INTEGER,
        usage_daily_micros INTEGER,
        usage_weekly_micros INTEGER,
        usage_monthly_micros INTEGER,
        expires_at TEXT,
        status_recorded_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_used_at TEXT
      )`
    ),
  indexes: (table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`CREATE INDEX ${sql(`${table}_by_user`)} ON ${sql(table)} (user_id)`
    ),
  apply: ({ event }, table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql): Effect.Effect<unknown, SqlError> =>
        Match.value(event).pipe(
          Match.tag(
            "KeyAdded",
            (e) =>
              sql`INSERT INTO ${sql(table)} ${sql.insert({
                id: e.keyId,
                user_id: e.userId,
                name: e.name,
                label: e.label,
                key_hash: e.keyHash,
                key_ciphertext: e.ciphertext,
                is_active: 1,
                is_invalid: 0,
                is_failing: 0,
                created_at: iso(e.at),
                updated_at: iso(e.at)
              })}`
          ),
          Match.tag(
            "KeyRenamed",
            (e) => sql`UPDATE ${sql(table)} SET name = ${e.name}, is_invalid = 0, updated_at = ${iso(e.at)}
            WHERE id = ${e.keyId}`
          ),
          Match.tag(
            "KeyActiveSet",
            (e) => sql`UPDATE ${sql(table)} SET is_active = ${e.isActive ? 1 : 0}, is_invalid = 0, is_failing = 0,
            last_error = NULL, updated_at = ${iso(e.at)} WHERE id = ${e.keyId}`
          ),
          Match.tag("KeyDeleted", (e) => sql`DELETE FROM ${sql(table)} WHERE id = ${e.keyId}`),
          Match.tag("UserDeleted", (e) => sql`DELETE FROM ${sql(table)} WHERE user_id = ${e.userId}`),
          Match.tag(
            "KeyStatusRecorded",
            ({ status: s, ...e }) => sql`UPDATE ${sql(table)} SET label = ${s.label},
            is_management_key = ${s.isManagementKey ? 1 : 0}, limit_micros = ${s.limit},
            limit_remaining_micros = ${s.limitRemaining}, limit_reset = ${s.limitReset},
            usage_total_micros = ${s.usage}, usage_daily_micros = ${s.usageDaily},
            usage_weekly_micros = ${s.usageWeekly}, usage_monthly_micros = ${s.usageMonthly},
            expires_at = ${s.expiresAt}, status_recorded_at = ${iso(e.at)}, is_failing = 0, last_error = NULL,
            updated_at = ${iso(e.at)} WHERE id = ${e.keyId}`
          ),
          Match.tag(
            "KeyMarkedInvalid",
            (e) => sql`UPDATE ${sql(table)} SET is_invalid = 1, last_error = ${"OpenRouter rejected the key (401)"},
            updated_at = ${iso(e.at)} WHERE id = ${e.keyId}`
          ),
          Match.tag(
            "KeySyncFailed",
            (e) => sql`UPDATE ${sql(table)} SET is_failing = 1, last_error = ${e.error}, updated_at = ${iso(e.at)}
            WHERE id = ${e.keyId}`
          ),
          Match.tag(
            "UsageRecorded",
            (e) => sql`UPDATE ${sql(table)} SET last_used_at = ${iso(e.at)} WHERE id = ${e.keyId}
            AND (last_used_at IS NULL OR last_used_at < ${iso(e.at)})`
          ),
          Match.orElse(() => Effect.void)
        )
    )
}
