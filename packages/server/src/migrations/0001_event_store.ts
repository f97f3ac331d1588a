import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { positionColumn } from "../Dialect.js"

/**
 * The append-only log. `position` is the global order; (stream_id, stream_version) is
 * unique, which turns a lost race into a constraint violation (optimistic concurrency).
 * BIGINT is 64-bit on PostgreSQL; SQLite gives any type containing "INT" integer affinity
 * (64-bit), so the files this created before it said BIGINT behave the same.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE events (
    position ${positionColumn(sql)},
    stream_id TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (stream_id, stream_version)
  )`
  yield* sql`CREATE INDEX events_type ON events (type, position)`
  yield* sql`CREATE INDEX events_recorded_at ON events (recorded_at)`
  // A command with an idempotency key records it with its events; a retry finds it and appends nothing.
  // `result` is no longer read (nothing replays results); it stays for the files that have it.
  yield* sql`CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    recorded_at TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE projection_checkpoints (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL
  )`
})
