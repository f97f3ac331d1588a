import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Sync bookkeeping kept outside the log: when a key's activity was first backfilled, and
 * each user's OpenRouter balance (null = unknown, never shown as $0). Money is BIGINT
 * micro-dollars: 64-bit on PostgreSQL, where INTEGER is 32-bit ($2147 would overflow);
 * SQLite gives BIGINT and INTEGER the same (64-bit integer) affinity, so files created
 * when this said INTEGER behave the same.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE key_sync ADD COLUMN activity_backfilled_at TEXT`
  yield* sql`CREATE TABLE account_balance (
    user_id TEXT PRIMARY KEY,
    total_credits_micros BIGINT,
    total_usage_micros BIGINT,
    updated_at TEXT NOT NULL
  )`
})
