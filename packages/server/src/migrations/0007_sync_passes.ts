import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Two more facts of a key's sync bookkeeping (`key_sync`, outside the log like the rest of it):
 * - `history_imported_at`: when the key's year of analytics was imported. Until now the import rode on the
 *   first activity backfill, so keys backfilled before the import existed never got it; with its own column,
 *   a key without it gets the year at its next sync (once: the rows are absolute, a repeat records nothing).
 * - `reconciled_at`: when the daily reconciliation last ran for the key, so "once a day" survives restarts.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE key_sync ADD COLUMN history_imported_at TEXT`
  yield* sql`ALTER TABLE key_sync ADD COLUMN reconciled_at TEXT`
})
