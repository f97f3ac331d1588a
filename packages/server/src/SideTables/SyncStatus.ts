import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * `key_sync`: when each key was last synced or tried, with what error, and when its activity was first
 * backfilled. Written by every sync attempt, so it is kept outside the log (a sync that finds nothing
 * new appends no event). The only module that reads or writes the table.
 */

/** The sync bookkeeping of one key. */
export interface SyncStatus {
  readonly keyId: string
  readonly lastSyncedAt: string | null
  readonly lastAttemptAt: string | null
  readonly lastError: string | null
}

interface Row {
  readonly key_id: string
  readonly last_synced_at: string | null
  readonly last_attempt_at: string | null
  readonly last_error: string | null
}

/** The sync status of each of `keyIds` that has one. */
export const ofKeys = (keyIds: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    keyIds.length === 0
      ? Effect.succeed([])
      : sql<Row>`SELECT key_id, last_synced_at, last_attempt_at, last_error FROM key_sync WHERE ${sql.in("key_id", keyIds)}`
  ).pipe(
    Effect.map(
      (rows) =>
        new Map(
          rows.map((r): [string, SyncStatus] => [
            r.key_id,
            {
              keyId: r.key_id,
              lastSyncedAt: r.last_synced_at,
              lastAttemptAt: r.last_attempt_at,
              lastError: r.last_error
            }
          ])
        )
    ),
    Effect.orDie
  )

/** One attempt's outcome: `error` null = synced at `at`. The last good time is kept across failures. */
export const recordAttempt = (keyId: string, at: string, error: string | null) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO key_sync (key_id, last_synced_at, last_attempt_at, last_error, state)
      VALUES (${keyId}, ${error === null ? at : null}, ${at}, ${error}, ${error === null ? "ok" : "failed"})
      ON CONFLICT (key_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,
        state = excluded.state, last_synced_at = COALESCE(excluded.last_synced_at, key_sync.last_synced_at)`
  ).pipe(Effect.asVoid, Effect.orDie)

/** Whether the key's 30 days of activity were taken once (afterwards only the last days are re-read). */
export const activityBackfilled = (keyId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ activity_backfilled_at: string | null }>`SELECT activity_backfilled_at FROM key_sync
      WHERE key_id = ${keyId}`
  ).pipe(
    Effect.map((rows) => rows[0]?.activity_backfilled_at != null),
    Effect.orDie
  )

/** Notes that the key's activity was backfilled at `at`. */
export const markActivityBackfilled = (keyId: string, at: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO key_sync (key_id, activity_backfilled_at) VALUES (${keyId}, ${at})
      ON CONFLICT (key_id) DO UPDATE SET activity_backfilled_at = excluded.activity_backfilled_at`
  ).pipe(Effect.asVoid, Effect.orDie)

/** Whether the key's year of analytics was imported (openrouter-api.md, item 5). */
export const historyImported = (keyId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ history_imported_at: string | null }>`SELECT history_imported_at FROM key_sync WHERE key_id = ${keyId}`
  ).pipe(
    Effect.map((rows) => rows[0]?.history_imported_at != null),
    Effect.orDie
  )

/** Notes that the key's year of analytics was imported at `at`. */
export const markHistoryImported = (keyId: string, at: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO key_sync (key_id, history_imported_at) VALUES (${keyId}, ${at})
      ON CONFLICT (key_id) DO UPDATE SET history_imported_at = excluded.history_imported_at`
  ).pipe(Effect.asVoid, Effect.orDie)

/** Notes that the key was reconciled at `at` (ISO 8601 UTC). */
export const markReconciled = (keyId: string, at: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO key_sync (key_id, reconciled_at) VALUES (${keyId}, ${at})
      ON CONFLICT (key_id) DO UPDATE SET reconciled_at = excluded.reconciled_at`
  ).pipe(Effect.asVoid, Effect.orDie)

/** When the key was last reconciled (ISO 8601 UTC), if ever. */
export const reconciledAt = (keyId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ reconciled_at: string | null }>`SELECT reconciled_at FROM key_sync WHERE key_id = ${keyId}`
  ).pipe(
    Effect.map((rows) => rows[0]?.reconciled_at ?? null),
    Effect.orDie
  )

/**
 * Of `keyIds`, those due for the daily reconciliation: synced at least once, and not reconciled since
 * `before` (ISO 8601 UTC).
 */
export const dueForReconciliation = (keyIds: ReadonlyArray<string>, before: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    keyIds.length === 0
      ? Effect.succeed([])
      : sql<{ key_id: string }>`SELECT key_id FROM key_sync WHERE ${sql.in("key_id", keyIds)}
          AND last_synced_at IS NOT NULL AND (reconciled_at IS NULL OR reconciled_at < ${before}) ORDER BY key_id`
  ).pipe(
    Effect.map((rows) => rows.map((r) => r.key_id)),
    Effect.orDie
  )

/** Keys by the outcome of their last sync (`never` when they have a row but no attempt), for /metrics. */
export const countByState = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ state: string; n: number }>`SELECT COALESCE(state, 'never') AS state, COUNT(*) AS n
    FROM key_sync GROUP BY 1 ORDER BY 1`
).pipe(
  Effect.map((rows) => rows.map((r) => ({ state: r.state, count: Number(r.n) }))),
  Effect.orDie
)
