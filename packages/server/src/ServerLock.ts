import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Data, Effect, Layer } from "effect"
import { AppConfig } from "./Config.js"

/** A second server on a database file another server holds: refused, in one line. */
export class DataDirLocked extends Data.TaggedError("DataDirLocked")<{ readonly lockFile: string }> {
  override get message() {
    return `Another orw server is running on this database (${this.lockFile} is locked): stop it first, or use another DATA_DIR`
  }
}

/** The lock file of a database file: `server.lock` beside it (`<DATA_DIR>/server.lock` by default). */
export const lockFileOf = (databaseFile: string) => NodePath.join(NodePath.dirname(databaseFile), "server.lock")

/**
 * Holds `lockFile` for as long as the layer lives: an SQLite file opened in exclusive locking mode inside a
 * transaction that never ends. The lock is the OS's (fcntl), so it goes with the process however that
 * process ends, SIGKILL included: no stale pid to check. SQLite also tracks it per file across connections of
 * one process, so a second server in the same process is refused too.
 */
export const hold = (lockFile: string) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe("PRAGMA busy_timeout = 0")
      yield* sql.unsafe("PRAGMA locking_mode = EXCLUSIVE")
      yield* sql.unsafe("BEGIN EXCLUSIVE")
      // The exclusive lock is taken on the first write, and kept: the transaction is never committed.
      yield* sql.unsafe("CREATE TABLE IF NOT EXISTS held (pid INTEGER)")
      yield* sql`INSERT INTO held (pid) VALUES (${process.pid})`
    }).pipe(Effect.mapError(() => new DataDirLocked({ lockFile })))
  ).pipe(
    Layer.provide(
      Layer.suspend(() => {
        NodeFs.mkdirSync(NodePath.dirname(lockFile), { recursive: true })
        return SqliteClient.layer({ filename: lockFile, disableWAL: true })
      })
    ),
    Layer.catchAll((error) => Layer.fail(error._tag === "DataDirLocked" ? error : new DataDirLocked({ lockFile })))
  )

/**
 * One server per SQLite database: two would each run their own rate limiter and sync fibers over one file.
 * Held while the server runs; an in-memory database needs none, and on PostgreSQL several instances are
 * the point (the per-key sync lease keeps them apart).
 */
export const ServerLock = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ database }) =>
    database._tag === "Sqlite" && database.filename !== ":memory:" ? hold(lockFileOf(database.filename)) : Layer.empty
  )
)
