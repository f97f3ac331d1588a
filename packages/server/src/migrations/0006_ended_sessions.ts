import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Sessions ended before their JWT expires (a logout): the token's `jti` until its `exp` (seconds). Not in
 * the log: a logout changes no aggregate, and a row is worthless once its token has expired anyway.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE ended_sessions (
    session_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  )`
})
