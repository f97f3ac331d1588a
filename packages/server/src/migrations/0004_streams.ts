import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Each stream's current version, one row per stream, moved by the append in its transaction with
 * `UPDATE ... WHERE version = <expected>`. A row is what a writer or a guard locks, so the store's
 * concurrency rules hold on an engine with row locks (PostgreSQL) and not only under SQLite's single
 * writer. Backfilled from the log, so existing files keep appending where they were.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE streams (
    stream_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
  )`
  yield* sql`INSERT INTO streams (stream_id, version)
    SELECT stream_id, MAX(stream_version) FROM events GROUP BY stream_id`
})
