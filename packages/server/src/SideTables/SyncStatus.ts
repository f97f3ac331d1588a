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

/** The columns of key_sync that note when something was done once for a key (ISO 8601 UTC, null: not yet). */
type Mark = "activity_backfilled_at" | "history_imported_at" | "reconciled_at"

/** When `mark` was noted for the key, if ever. */
const markedAt = (keyId: string, mark: Mark) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<Record<Mark, string | null>>`SELECT ${sql(mark)} FROM key_sync WHERE key_id = ${keyId}`
  ).pipe(
    Effect.map((rows) => rows[0]?.[mark] ?? null),
    Effect.orDie
  )

/** Notes `mark` for the key at `at` (ISO 8601 UTC). */
const noteMark = (keyId: string, mark: Mark, at: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO key_sync (key_id, ${sql(mark)}) VALUES (${keyId}, ${at})
      ON CONFLICT (key_id) DO UPDATE SET ${sql(mark)} = excluded.${sql(mark)}`
  ).pipe(Effect.asVoid, Effect.orDie)

/** Whether the key's 30 days of activity were taken once (afterwards only the last days are re-read). */
export const activityBackfilled = (keyId: string) =>
  Effect.map(markedAt(keyId, "activity_backfilled_at"), (at) => at !== null)

/** Notes that the key's activity was backfilled at `at`. */
export const markActivityBackfilled = (keyId: string, at: string) => noteMark(keyId, "activity_backfilled_at", at)

/** Whether the key's year of analytics was imported (openrouter-api.md, item 5). */
export const historyImported = (keyId: string) =>
  Effect.map(markedAt(keyId, "history_imported_at"), (at) => at !== null)

/** Notes that the key's year of analytics was imported at `at`. */
export const markHistoryImported = (keyId: string, at: string) => noteMark(keyId, "history_imported_at", at)

/** Notes that the key was reconciled at `at` (ISO 8601 UTC). */
export const markReconciled = (keyId: string, at: string) => noteMark(keyId, "reconciled_at", at)

/** When the key was last reconciled (ISO 8601 UTC), if ever. */
export const reconciledAt = (keyId: string) => markedAt(keyId, "reconciled_at")

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
