import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import * as Migrator from "@effect/sql/Migrator"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { DomainEvent, Streams, UserCommands, UserEvents, UserId } from "@orw/domain"
import { Effect, Either, Layer, Schema } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import * as Sql from "../src/Sql.js"
import { eventStoreContract } from "./support/EventStoreContract.js"
import { at, register, testMetadata } from "./support/Fixtures.js"

const tempFile = () => NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-es-")), "app.db")

const rawInsert = (row: Record<string, unknown>) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`INSERT INTO events ${sql.insert({ ...row, metadata: JSON.stringify(testMetadata()), recorded_at: "2026-01-01T00:00:00.000Z" })}`
  )

/** Two connections to one file, opened one after the other so that the second finds it migrated. */
const connect = () =>
  Effect.gen(function* () {
    const file = tempFile()
    const first = yield* Layer.build(Core.layerFile(file))
    const second = yield* Layer.build(Core.layerFile(file))
    return [first, second] as const
  })

eventStoreContract("SQLite file", () => Core.layerFile(tempFile()), rawInsert, connect)

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

  it.effect("a log written before the streams table keeps appending where it was: the migration backfills it", () =>
    Effect.gen(function* () {
      const file = tempFile()
      const before = Object.entries(Sql.migrations).filter(([name]) => name < "0004")
      const userId = UserId.make("old")
      const log = [
        [
          Streams.email("old@example.com"),
          1,
          new UserEvents.EmailClaimed({ email: "old@example.com", userId, at: at() })
        ],
        [
          Streams.user("old"),
          1,
          new UserEvents.UserRegistered({ userId, email: "old@example.com", passwordHash: "h0", at: at() })
        ],
        [Streams.user("old"), 2, new UserEvents.PasswordChanged({ userId, passwordHash: "h1", at: at() })]
      ] as const
      // The file as the previous release left it: migrated up to 0003, events but no streams table.
      yield* Effect.gen(function* () {
        yield* Migrator.make({})({ loader: Migrator.fromRecord(Object.fromEntries(before)) })
        for (const [streamId, version, event] of log) {
          const { _tag, ...data } = Schema.encodeSync(DomainEvent)(event) as { _tag: string }
          yield* rawInsert({
            stream_id: streamId,
            stream_version: version,
            type: _tag,
            schema_version: 1,
            data: JSON.stringify(data)
          })
        }
      }).pipe(Effect.provide(SqliteClient.layer({ filename: file })))

      yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const streams = yield* sql<{ stream_id: string; version: number }>`SELECT stream_id, version FROM streams
          ORDER BY stream_id`
        expect(streams.map((r) => [r.stream_id, r.version])).toEqual([
          [Streams.email("old@example.com"), 1],
          [Streams.user("old"), 2]
        ])
        const dispatcher = yield* Dispatcher
        const changed = yield* dispatcher.dispatch(
          new UserCommands.ChangePassword({ userId, passwordHash: "h2", at: at() }),
          { metadata: testMetadata() }
        )
        expect(changed.map((e) => [e.streamId, e.streamVersion])).toEqual([[Streams.user("old"), 3]])
        const again = yield* Effect.either(
          dispatcher.dispatch(register("new", "old@example.com"), { metadata: testMetadata() })
        )
        expect(Either.isLeft(again) && again.left._tag).toBe("EmailAlreadyRegistered")
      }).pipe(Effect.provide(Core.layerFile(file)))
    })
  )
})
