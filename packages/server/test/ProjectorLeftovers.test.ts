import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Core from "../src/Core.js"
import * as Sql from "../src/Sql.js"

/** Issue 13: a rebuild killed part way left `users__rebuild` (emails, password hashes) until the next rebuild. */
it.effect("a killed rebuild's <table>__rebuild tables are dropped at start", () =>
  Effect.gen(function* () {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-leftover-"))
    const file = NodePath.join(dir, "app.db")
    const tables = Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%rebuild'`
    )
    // A file whose projections are current (a rebuild at start would drop the leftovers anyway)...
    yield* Effect.provide(Effect.void, Core.layerFile(file).pipe(Layer.fresh))
    // ...as a SIGKILL'd `orw replay` leaves it: with a half-replayed copy of the users table.
    yield* Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE users__rebuild (id TEXT, email TEXT, password_hash TEXT)`
      yield* sql`INSERT INTO users__rebuild VALUES ('u1', 'a@example.com', '$argon2id$v=19$leftover')`
      yield* sql`CREATE TABLE api_keys__rebuild (id TEXT)`
      expect((yield* tables).map((t) => t.name).sort()).toEqual(["api_keys__rebuild", "users__rebuild"])
    }).pipe(Effect.provide(Sql.layerFile(file)))
    const left = yield* tables.pipe(Effect.provide(Core.layerFile(file).pipe(Layer.fresh)))
    expect(left).toEqual([])
    NodeFs.rmSync(dir, { recursive: true, force: true })
  })
)
