import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import * as SqliteClient from "../src/SqliteClient.js"

const tempFile = () => NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-sqlite-")), "app.db")

const count = (handle: SqliteClient.SqliteHandleShape) =>
  handle.use((_, prepare) => (prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n)

describe("SqliteClient", () => {
  it.scopedLive(
    "a handle outside a transaction waits for another fiber's transaction and sees only what it committed",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const handle = yield* SqliteClient.SqliteHandle
        yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`
        const inserted = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const writer = yield* Effect.fork(
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql`INSERT INTO t (id) VALUES (1)`
              yield* Deferred.succeed(inserted, undefined)
              yield* Deferred.await(release)
              yield* sql`INSERT INTO t (id) VALUES (2)`
            })
          )
        )
        yield* Deferred.await(inserted)
        // The writer's transaction is open with one uncommitted row: the read must not run now.
        const reader = yield* Effect.fork(count(handle))
        yield* Effect.yieldNow()
        yield* Effect.sleep("20 millis")
        expect(reader.unsafePoll()).toBeNull()
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(writer)
        expect(yield* Fiber.join(reader)).toBe(2)
      }).pipe(Effect.provide(SqliteClient.layer(tempFile())))
  )

  it.scoped("inside a transaction a handle runs on it: its writes roll back with the transaction", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const handle = yield* SqliteClient.SqliteHandle
      yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`
      const failed = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            yield* handle.use((_, prepare) => prepare("INSERT INTO t (id) VALUES (?)").run(7))
            expect(yield* count(handle)).toBe(1)
            return yield* Effect.fail("abort" as const)
          })
        )
        .pipe(Effect.flip)
      expect(failed).toBe("abort")
      expect(yield* count(handle)).toBe(0)
    }).pipe(Effect.provide(SqliteClient.layer(tempFile())))
  )

  it.scoped("a failing statement is a SqlError, and a statement is prepared once", () =>
    Effect.gen(function* () {
      const handle = yield* SqliteClient.SqliteHandle
      const error = yield* Effect.flip(handle.use((_, prepare) => prepare("SELECT * FROM missing").all()))
      expect(error._tag).toBe("SqlError")
      expect(handle.prepare("SELECT 1 AS one")).toBe(handle.prepare("SELECT 1 AS one"))
    }).pipe(Effect.provide(SqliteClient.layer(tempFile())))
  )
})
