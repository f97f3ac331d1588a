import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import { eventStoreContract } from "./support/EventStoreContract.js"
import { register, testMetadata } from "./support/Fixtures.js"

const tempFile = () => NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-es-")), "app.db")

const rawInsert = (row: Record<string, unknown>) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`INSERT INTO events ${sql.insert({ ...row, metadata: JSON.stringify(testMetadata()), recorded_at: "2026-01-01T00:00:00.000Z" })}`
  )

eventStoreContract("SQLite file", () => Core.layerFile(tempFile()), rawInsert)

describe("SQLite specifics", () => {
  it.effect("two connections on one file: racing registrations leave exactly one winner", () =>
    Effect.gen(function* () {
      const file = tempFile()
      const race = (i: number) =>
        Effect.either(
          Effect.flatMap(Dispatcher, (d) =>
            d.dispatch(register(`w${i}`, "race@example.com"), { metadata: testMetadata() })
          ).pipe(Effect.provide(Core.layerFile(file)))
        )
      // Build the schema first so both writers open a migrated file.
      yield* Effect.provide(Effect.void, Core.layerFile(file))
      const results = yield* Effect.all([race(1), race(2), race(3), race(4)], { concurrency: "unbounded" })
      expect(results.filter(Either.isRight)).toHaveLength(1)
      const events = yield* Effect.flatMap(EventStore, (s) => s.readAll(0, 100)).pipe(
        Effect.provide(Core.layerFile(file))
      )
      expect(events.map((e) => e.type)).toEqual(["EmailClaimed", "UserRegistered"])
    })
  )

  it.effect("an acknowledged append is on disk: a fresh connection reads it", () =>
    Effect.gen(function* () {
      const file = tempFile()
      yield* Effect.flatMap(Dispatcher, (d) =>
        d.dispatch(register("durable", "durable@example.com"), { metadata: testMetadata() })
      ).pipe(Effect.provide(Core.layerFile(file)))
      const pragmas = yield* Effect.flatMap(SqlClient.SqlClient, (s) =>
        Effect.all([s<{ journal_mode: string }>`PRAGMA journal_mode`, s<{ synchronous: number }>`PRAGMA synchronous`])
      ).pipe(Effect.provide(Core.layerFile(file)))
      expect(pragmas[0][0]?.journal_mode).toBe("wal")
      // 2 = FULL: the WAL is fsynced at every commit.
      expect(pragmas[1][0]?.synchronous).toBe(2)
      const events = yield* Effect.flatMap(EventStore, (s) => s.readAll(0, 100)).pipe(
        Effect.provide(Core.layerFile(file))
      )
      expect(events).toHaveLength(2)
    }).pipe(Effect.provide(Layer.empty))
  )
})
