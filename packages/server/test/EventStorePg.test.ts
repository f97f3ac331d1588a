/**
 * The PostgreSQL-only paths: the append in one statement (EventStorePg.ts) and the group commit's
 * transaction with the lock in BEGIN and the checkpoint move in COMMIT (GroupCommitPg.ts).
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeyId, type Micros, Streams, UsageCommands, UserEvents, UserId, UtcDate } from "@orw/domain"
import { DateTime, Effect, Either, Layer } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { ConcurrencyConflict, EventStore, type StreamWrite } from "../src/EventStore.js"
import { addKey, register, testMetadata } from "./support/Fixtures.js"
import { freshDatabase } from "./support/Postgres.js"

const fresh = Effect.promise(() => freshDatabase())

const event = (userId: string, i: number) =>
  new UserEvents.PasswordChanged({ userId: UserId.make(userId), passwordHash: `h${i}`, at: DateTime.unsafeNow() })

const write = (userId: string, expectedVersion: number, n: number): StreamWrite => ({
  streamId: Streams.user(userId),
  expectedVersion,
  events: Array.from({ length: n }, (_, i) => event(userId, i))
})

const appendIn = (
  writes: ReadonlyArray<StreamWrite>,
  guards: ReadonlyArray<{ streamId: string; expectedVersion: number }> = []
) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    return yield* sql.withTransaction(store.append(writes, testMetadata(), guards))
  }).pipe(Effect.catchTag("SqlError", Effect.die))

const streamsAndEvents = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const streams = yield* sql<{
    stream_id: string
    version: string
  }>`SELECT stream_id, version FROM streams ORDER BY stream_id`
  const events = yield* sql<{ position: string; stream_id: string; stream_version: number }>`
    SELECT position, stream_id, stream_version FROM events ORDER BY position`
  return {
    streams: streams.map((s) => [s.stream_id, Number(s.version)]),
    events: events.map((e) => [Number(e.position), e.stream_id, e.stream_version])
  }
})

describe("PostgreSQL append in one statement", () => {
  it.scoped("several streams and events: positions as stored, in the order given, versions claimed", () =>
    Effect.gen(function* () {
      const { database } = yield* fresh
      const core = yield* Layer.build(Core.layerDatabase(database))
      yield* Effect.provide(
        Effect.gen(function* () {
          const first = yield* appendIn([write("b", 0, 2), write("a", 0, 3)])
          const second = yield* appendIn([write("a", 3, 1)], [{ streamId: Streams.user("b"), expectedVersion: 2 }])
          const { streams, events } = yield* streamsAndEvents
          expect(streams).toEqual([
            [Streams.user("a"), 4],
            [Streams.user("b"), 2]
          ])
          // What append answered is what the log holds, position for position.
          expect([...first, ...second].map((e) => [e.position, e.streamId, e.streamVersion])).toEqual(events)
          expect(first.map((e) => e.streamId)).toEqual([
            Streams.user("b"),
            Streams.user("b"),
            Streams.user("a"),
            Streams.user("a"),
            Streams.user("a")
          ])
        }),
        core
      )
    })
  )

  it.scoped("a stale claim among several is a conflict naming it, and nothing of the append stays", () =>
    Effect.gen(function* () {
      const { database } = yield* fresh
      const core = yield* Layer.build(Core.layerDatabase(database))
      yield* Effect.provide(
        Effect.gen(function* () {
          yield* appendIn([write("a", 0, 1), write("b", 0, 1), write("c", 0, 1)])
          const before = yield* streamsAndEvents
          // Claims in stream id order: a (fine), b (stale guard), c (fine): b is the conflict.
          const stale = yield* Effect.either(
            appendIn([write("c", 1, 1), write("a", 1, 2)], [{ streamId: Streams.user("b"), expectedVersion: 0 }])
          )
          expect(Either.isLeft(stale) && stale.left).toEqual(
            new ConcurrencyConflict({ streamId: Streams.user("b"), expectedVersion: 0 })
          )
          // A new stream (version 0 claim) that already exists is a conflict too.
          const exists = yield* Effect.either(appendIn([write("c", 0, 1)]))
          expect(Either.isLeft(exists) && exists.left).toEqual(
            new ConcurrencyConflict({ streamId: Streams.user("c"), expectedVersion: 0 })
          )
          expect(yield* streamsAndEvents).toEqual(before)
        }),
        core
      )
    })
  )

  it.scoped(
    "two pools racing appends over the same two streams (listed in opposite orders): one wins each round, the other conflicts, no deadlock",
    () =>
      Effect.gen(function* () {
        const { database } = yield* fresh
        const one = yield* Layer.build(Core.layerDatabase(database))
        const two = yield* Layer.build(Core.layerDatabase(database))
        yield* Effect.provide(appendIn([write("x", 0, 1), write("y", 0, 1)]), one)
        // Each round, both appends expect (x, y) at (v, v) and write both, listed in opposite orders.
        let version = 1
        for (let round = 0; round < 20; round++) {
          const results = yield* Effect.all(
            [
              Effect.either(Effect.provide(appendIn([write("x", version, 1), write("y", version, 1)]), one)),
              Effect.either(Effect.provide(appendIn([write("y", version, 1), write("x", version, 1)]), two))
            ],
            { concurrency: "unbounded" }
          )
          // A deadlock would be a defect (SQLSTATE 40P01), not a conflict: the test would fail with it.
          const won = results.filter(Either.isRight)
          expect(won).toHaveLength(1)
          for (const lost of results.filter(Either.isLeft)) expect(lost.left).toBeInstanceOf(ConcurrencyConflict)
          version++
        }
        const { streams, events } = yield* Effect.provide(streamsAndEvents, one)
        expect(streams).toEqual([
          [Streams.user("x"), 21],
          [Streams.user("y"), 21]
        ])
        expect(events).toHaveLength(42)
      })
  )
})

describe("PostgreSQL stream reads, coalesced", () => {
  it.scoped(
    "concurrent reads (streams and starting versions mixed) each get exactly their own events; a read in a transaction sees it",
    () =>
      Effect.gen(function* () {
        const { database } = yield* fresh
        const core = yield* Layer.build(Core.layerDatabase(database))
        yield* Effect.provide(
          Effect.gen(function* () {
            const store = yield* EventStore
            const sql = yield* SqlClient.SqlClient
            yield* appendIn([write("a", 0, 3), write("b", 0, 2), write("c", 0, 1)])
            const asked = [
              ["a", 0],
              ["b", 1],
              ["a", 2],
              ["c", 1],
              ["none", 0],
              ["b", 0]
            ] as const
            const reads = yield* Effect.all(
              asked.map(([id, after]) => store.readStream(Streams.user(id), after)),
              { concurrency: "unbounded" }
            )
            expect(reads.map((r) => [r.version, r.events.map((e) => `${e.streamId}@${e.streamVersion}`)])).toEqual([
              [3, [`${Streams.user("a")}@1`, `${Streams.user("a")}@2`, `${Streams.user("a")}@3`]],
              [2, [`${Streams.user("b")}@2`]],
              [3, [`${Streams.user("a")}@3`]],
              [1, []],
              [0, []],
              [2, [`${Streams.user("b")}@1`, `${Streams.user("b")}@2`]]
            ])
            // More reads at once than one statement takes (64): every one answered, each with its own stream.
            const many = yield* Effect.all(
              Array.from({ length: 150 }, (_, i) => store.readStream(Streams.user(i % 2 === 0 ? "a" : "b"))),
              { concurrency: "unbounded" }
            )
            expect(many.map((r) => r.version)).toEqual(Array.from({ length: 150 }, (_, i) => (i % 2 === 0 ? 3 : 2)))
            // Inside a transaction the read is the transaction's: it sees the append not yet committed.
            const inside = yield* sql.withTransaction(
              Effect.zipRight(
                store.append([write("c", 1, 1)], testMetadata()),
                Effect.all([store.readStream(Streams.user("c")), store.readStream(Streams.user("a"), 3)], {
                  concurrency: "unbounded"
                })
              )
            )
            expect(inside.map((r) => r.version)).toEqual([2, 3])
          }),
          core
        )
      })
  )
})

describe("PostgreSQL group commit transaction", () => {
  const usage = (i: number) =>
    new UsageCommands.RecordUsage({
      keyId: ApiKeyId.make(`k${i % 3}`),
      date: UtcDate.make("2026-01-02"),
      model: `model-${i % 2}`,
      mode: "increment",
      figures: { requests: 1, tokensInput: 10, tokensOutput: 5, cost: 100 as Micros, byokCost: 0 },
      at: DateTime.unsafeNow()
    })

  it.scoped("commands alone and in batches, from two instances: checkpoints at the head, usage exact", () =>
    Effect.gen(function* () {
      const { database } = yield* fresh
      const one = yield* Layer.build(Core.layerDatabase(database))
      const two = yield* Layer.build(Core.layerDatabase(database))
      const dispatch = (ctx: typeof one, command: Parameters<Dispatcher["dispatch"]>[0]) =>
        Effect.provide(
          Effect.flatMap(Dispatcher, (d) => d.dispatch(command, { metadata: testMetadata() })),
          ctx
        )
      yield* dispatch(one, register("owner", "owner@example.com"))
      for (let k = 0; k < 3; k++) yield* dispatch(one, addKey(`k${k}`, "owner", { max: 100 }))
      // One at a time (a batch of one), then 24 at once over both instances (batches with savepoints).
      yield* dispatch(two, usage(0))
      yield* Effect.all(
        Array.from({ length: 24 }, (_, i) => dispatch(i % 2 === 0 ? one : two, usage(i + 1))),
        { concurrency: "unbounded" }
      )
      const sql = yield* Effect.provide(SqlClient.SqlClient, one)
      const head = Number((yield* sql<{ head: string }>`SELECT MAX(position) AS head FROM events`)[0]?.head)
      const checkpoints = yield* sql<{
        name: string
        position: string
      }>`SELECT name, position FROM projection_checkpoints`
      expect(checkpoints.length).toBeGreaterThan(0)
      for (const c of checkpoints) expect([c.name, Number(c.position)]).toEqual([c.name, head])
      const totals = yield* sql<{ requests: string }>`SELECT SUM(requests_count) AS requests FROM usage_stats`
      expect(Number(totals[0]?.requests)).toBe(25)
      // Nothing left locked: a NOWAIT lock of the checkpoint rows gets them at once.
      yield* sql.withTransaction(sql`SELECT name FROM projection_checkpoints FOR UPDATE NOWAIT`)
    })
  )
})
