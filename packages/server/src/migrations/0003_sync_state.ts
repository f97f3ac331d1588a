import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Sync bookkeeping kept outside the log: when a key's activity was first backfilled, and
 * each user's OpenRouter balance (null = unknown, never shown as $0).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE key_sync ADD COLUMN activity_backfilled_at TEXT`
  yield* sql`CREATE TABLE account_balance (
    user_id TEXT PRIMARY KEY,
    total_credits_micros INTEGER,
    total_usage_micros INTEGER,
    updated_at TEXT NOT NULL
  )`
})
