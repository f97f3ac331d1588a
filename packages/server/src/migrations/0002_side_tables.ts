import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * State that is deliberately not in the log:
 * - key_vault: each stored key's data key, wrapped by the master key. Deleting the row
 *   shreds the key: the ciphertext in the log can no longer be opened.
 * - token_usage / key_sync: high-frequency facts (last use of a token, last sync of a key)
 *   written coarsely, never as events, so that projections stay a pure function of the log.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE key_vault (
    key_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    wrapped_key TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE token_usage (
    token_id TEXT PRIMARY KEY,
    last_used_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE key_sync (
    key_id TEXT PRIMARY KEY,
    last_synced_at TEXT,
    last_attempt_at TEXT,
    last_error TEXT,
    state TEXT
  )`
})
