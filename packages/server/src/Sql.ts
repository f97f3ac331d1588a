import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import EventStore0001 from "./migrations/0001_event_store.js"
import SideTables0002 from "./migrations/0002_side_tables.js"
import SyncState0003 from "./migrations/0003_sync_state.js"
import Streams0004 from "./migrations/0004_streams.js"
import EndedSessions0005 from "./migrations/0005_ended_sessions.js"

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
  "0005_ended_sessions": EndedSessions0005
} as const

export const migrate = Migrator.make({})({ loader: Migrator.fromRecord(migrations) })

/** SQLite at `filename`, opened, tuned and migrated. */
export const layerFile = (filename: string) =>
  Layer.effectDiscard(Effect.zipRight(pragmas, migrate)).pipe(
    Layer.provideMerge(
      Layer.suspend(() => {
        if (filename !== ":memory:") NodeFs.mkdirSync(NodePath.dirname(filename), { recursive: true })
        return SqliteClient.layer({ filename })
      })
    )
  )
