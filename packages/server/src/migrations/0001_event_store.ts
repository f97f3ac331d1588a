import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * The append-only log. `position` is the global order; (stream_id, stream_version) is
 * unique, which turns a lost race into a constraint violation (optimistic concurrency).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () => sql`CREATE TABLE events (
      position BIGSERIAL PRIMARY KEY,
      stream_id TEXT NOT NULL,
      stream_version INTEGER NOT NULL,
      type TEXT NOT NULL,
      schema_version INTEGER NOT NULL,
      data TEXT NOT NULL,
      metadata TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      UNIQUE (stream_id, stream_version)
    )`,
    orElse: () => sql`CREATE TABLE events (
      position INTEGER PRIMARY KEY AUTOINCREMENT,
      stream_id TEXT NOT NULL,
      stream_version INTEGER NOT NULL,
      type TEXT NOT NULL,
      schema_version INTEGER NOT NULL,
      data TEXT NOT NULL,
      metadata TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      UNIQUE (stream_id, stream_version)
    )`
  })
  yield* sql`CREATE INDEX events_type ON events (type, position)`
  yield* sql`CREATE INDEX events_recorded_at ON events (recorded_at)`
  // A retried command with the same key returns the first result and appends nothing.
  yield* sql`CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE projection_checkpoints (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  )`
})
