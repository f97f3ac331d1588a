import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, type Redacted, Schema } from "effect"
import * as Pg from "pg"
import { withAdvisoryLock } from "./Dialect.js"
import EventStore0001 from "./migrations/0001_event_store.js"
import SideTables0002 from "./migrations/0002_side_tables.js"
import SyncState0003 from "./migrations/0003_sync_state.js"
import Streams0004 from "./migrations/0004_streams.js"
import WebhookDeliveries0005 from "./migrations/0005_webhook_deliveries.js"
import EndedSessions0006 from "./migrations/0006_ended_sessions.js"
import SyncPasses0007 from "./migrations/0007_sync_passes.js"
import ClaimsCheck0008 from "./migrations/0008_claims_check.js"
import { acquirePgPool } from "./PgPool.js"
import * as SqliteClient from "./SqliteClient.js"

/**
 * Durability: WAL with `synchronous = FULL`. Every acknowledged append is fsynced before
 * the commit returns, so it survives `kill -9` and a power cut (NORMAL would survive a
 * process crash but could lose the last commits on power loss). Appends are few per
 * second at most, so the fsync costs nothing that matters.
 */
const pragmas = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe("PRAGMA busy_timeout = 5000")
  yield* sql.unsafe("PRAGMA synchronous = FULL")
})

/** Every migration by its numbered name, oldest first; tests build older files from a prefix. */
export const migrations = {
  "0001_event_store": EventStore0001,
  "0002_side_tables": SideTables0002,
  "0003_sync_state": SyncState0003,
  "0004_streams": Streams0004,
  "0005_webhook_deliveries": WebhookDeliveries0005,
  "0006_ended_sessions": EndedSessions0006,
  "0007_sync_passes": SyncPasses0007,
  "0008_claims_check": ClaimsCheck0008
} as const

/** The newest migration this code knows. */
const latestKnown = Math.max(...Object.keys(migrations).map((name) => Number.parseInt(name, 10)))

/** The database was migrated by a newer release: this one must not write to it. */
export class DatabaseTooNew extends Schema.TaggedError<DatabaseTooNew>()("DatabaseTooNew", {
  applied: Schema.Number,
  known: Schema.Number
}) {
  override get message() {
    return `The database was migrated by a newer version of openrouter-watcher (migration ${this.applied}; this version knows up to ${this.known}): upgrade this instance, it stops here`
  }
}

/**
 * Runs the migrations this code has and the database lacks, once, whichever process gets there first:
 * under a cluster-wide lock on PostgreSQL (instances starting together wait, then find nothing to do),
 * under SQLite's file lock otherwise. A database that a newer release migrated further is refused.
 */
export const migrate = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* withAdvisoryLock(
    sql,
    "orw:migrations"
  )(
    Effect.gen(function* () {
      const applied = yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations) })
      const [latest] = yield* sql<{
        readonly id: number | null
      }>`SELECT MAX(migration_id) AS id FROM effect_sql_migrations`
      const id = Number(latest?.id ?? 0)
      if (id > latestKnown) return yield* new DatabaseTooNew({ applied: id, known: latestKnown })
      return applied
    })
  )
})

/**
 * How PostgreSQL values come back: BIGINT (money, positions, COUNT) and NUMERIC (SUM of BIGINT) as
 * numbers, as SQLite gives them; micro-dollars stay exact far beyond any balance (2^53 µ$ = $9e9).
 * Everything else keeps pg's parsers (times are TEXT columns, never parsed).
 */
/** How the server's connections name themselves to PostgreSQL (pg_stat_activity). */
export const APPLICATION_NAME = "openrouter-watcher"

export const pgTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === Pg.types.builtins.INT8 || oid === Pg.types.builtins.NUMERIC
      ? (value: string) => Number(value)
      : Pg.types.getTypeParser(oid, format ?? "text")) as typeof Pg.types.getTypeParser
}

/**
 * PostgreSQL at `url` (kept redacted: it carries the password), migrated. The pool's connections are
 * what concurrent commands, projections and the sync lease run on.
 */
export const layerPostgres = (url: Redacted.Redacted<string>) =>
  Layer.effectDiscard(migrate).pipe(
    Layer.provideMerge(
      PgClient.layerFromPool({
        acquire: acquirePgPool({ url, types: pgTypes, maxConnections: 20, applicationName: APPLICATION_NAME }),
        applicationName: APPLICATION_NAME,
        types: pgTypes
      })
    )
  )

/**
 * On close, the WAL is folded into the database file and truncated, so a stopped server leaves one
 * self-contained file (what a plain copy, or `orw restore`, expects).
 */
const checkpointOnClose = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.addFinalizer(() =>
    sql
      .unsafe("PRAGMA wal_checkpoint(TRUNCATE)")
      .pipe(Effect.catchAllCause((cause) => Effect.logWarning("WAL checkpoint at close failed", cause)))
  )
)

/** Owner-only modes: the database holds password hashes and wrapped keys. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/**
 * Creates the database's folder (0700) and file (0600) when missing, and narrows the modes of an existing
 * file and its -wal/-shm to 0600. SQLite gives the -wal and -shm it creates the database file's mode.
 */
export const securePaths = (filename: string) => {
  if (filename === ":memory:") return
  NodeFs.mkdirSync(NodePath.dirname(filename), { recursive: true, mode: PRIVATE_DIR_MODE })
  NodeFs.closeSync(NodeFs.openSync(filename, "a", PRIVATE_FILE_MODE))
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      NodeFs.chmodSync(`${filename}${suffix}`, PRIVATE_FILE_MODE)
    } catch (error) {
      // Missing, or not ours to change (orw run by another user): SQLite and `orw doctor` tell the rest.
      if (!["ENOENT", "EPERM"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error
    }
  }
}

/** SQLite at `filename`, opened, tuned and migrated; checkpointed when closed. */
export const layerFile = (filename: string) =>
  Layer.scopedDiscard(Effect.zipRight(Effect.zipRight(pragmas, migrate), checkpointOnClose)).pipe(
    Layer.provideMerge(
      Layer.suspend(() => {
        securePaths(filename)
        return SqliteClient.layer(filename)
      })
    )
  )
