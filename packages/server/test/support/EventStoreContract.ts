import type { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Streams, UserEvents, UserId } from "@orw/domain"
import { Effect, Either, Layer, Schema } from "effect"
import { CommandHandler } from "../../src/CommandHandler.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { ConcurrencyConflict, EventSchemas, EventStore } from "../../src/EventStore.js"
import { addKey, at, register, testMetadata } from "./Fixtures.js"

type Core = Dispatcher | CommandHandler | EventStore | SqlClient.SqlClient

/**
 * The contract every event store implementation must keep. `makeLayer` gives a fresh,
 * empty store; `makeSecondWriter` a second, independent connection to the same store.
 */
export const eventStoreContract = (
  name: string,
  makeLayer: () => Layer.Layer<Core, unknown>,
  rawInsert: (row: {
    stream_id: string
    stream_version: number
    type: string
    schema_version: number
    data: string
  }) => Effect.Effect<void, unknown, SqlClient.SqlClient>
) =>
  describe(`event store contract: ${name}`, () => {
    const userEvent = (userId: string, i: number) =>
      new UserEvents.PasswordChanged({ userId: UserId.make(userId), passwordHash: `h${i}`, at: at() })

    it.effect("appends in global order with gapless stream versions from 1", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const append = (userId: string, expected: number, n: number) =>
          store.append(
            [
              {
                streamId: Streams.user(userId),
                expectedVersion: expected,
                events: Array.from({ length: n }, (_, i) => userEvent(userId, i))
              }
            ],
            testMetadata()
          )
        yield* append("a", 0, 2)
        yield* append("b", 0, 1)
        yield* append("a", 2, 3)
        const all = yield* store.readAll(0, 100)
        expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6])
        const a = yield* store.readStream(Streams.user("a"))
        expect(a.version).toBe(5)
        expect(a.events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5])
        expect(a.events.map((e) => (e.event as UserEvents.PasswordChanged).passwordHash)).toEqual([
          "h0",
          "h1",
          "h0",
          "h1",
          "h2"
        ])
        expect(yield* store.head).toBe(6)
        expect(all[0]?.metadata).toEqual(testMetadata())
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("an append with a stale expected version is a conflict and writes nothing", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const write = (expected: number) =>
          store.append(
            [{ streamId: Streams.user("a"), expectedVersion: expected, events: [userEvent("a", expected)] }],
            testMetadata()
          )
        yield* write(0)
        const stale = yield* Effect.either(write(0))
        expect(Either.isLeft(stale) && stale.left).toBeInstanceOf(ConcurrencyConflict)
        expect((yield* store.readStream(Streams.user("a"))).version).toBe(1)
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("read-all pages through the whole log in order", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        for (let i = 0; i < 25; i++) {
          yield* store.append(
            [
              {
                streamId: Streams.user(`u${i % 3}`),
                expectedVersion: Math.floor(i / 3),
                events: [userEvent(`u${i % 3}`, i)]
              }
            ],
            testMetadata()
          )
        }
        const seen: Array<number> = []
        let after = 0
        for (;;) {
          const page = yield* store.readAll(after, 7)
          if (page.length === 0) break
          expect(page.length).toBeLessThanOrEqual(7)
          seen.push(...page.map((e) => e.position))
          after = page.at(-1)!.position
        }
        expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("concurrent writers: one email, many registrations, exactly one wins", () =>
      Effect.gen(function* () {
        const dispatcher = yield* Dispatcher
        const results = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i),
          (i) =>
            Effect.either(
              dispatcher.dispatch(register(`racer-${i}`, "same@example.com"), { metadata: testMetadata() })
            ),
          { concurrency: "unbounded" }
        )
        const won = results.filter(Either.isRight)
        const lost = results.filter(Either.isLeft)
        expect(won).toHaveLength(1)
        expect(lost.map((r) => r.left._tag)).toEqual(Array(11).fill("EmailAlreadyRegistered"))
        const store = yield* EventStore
        const claims = (yield* store.readAll(0, 1000)).filter((e) => e.type === "EmailClaimed")
        expect(claims).toHaveLength(1)
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("concurrent writers: the key limit holds under a race", () =>
      Effect.gen(function* () {
        const dispatcher = yield* Dispatcher
        yield* dispatcher.dispatch(register("owner", "owner@example.com"), { metadata: testMetadata() })
        const results = yield* Effect.forEach(
          Array.from({ length: 10 }, (_, i) => i),
          (i) => Effect.either(dispatcher.dispatch(addKey(`k${i}`, "owner", { max: 3 }), { metadata: testMetadata() })),
          { concurrency: "unbounded" }
        )
        expect(results.filter(Either.isRight)).toHaveLength(3)
        expect(results.filter(Either.isLeft).map((r) => r.left._tag)).toEqual(Array(7).fill("KeyLimitReached"))
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("a retried command with the same idempotency key returns the first result and appends once", () =>
      Effect.gen(function* () {
        const handler = yield* CommandHandler
        const store = yield* EventStore
        let decisions = 0
        const run = handler.execute(
          (load) =>
            Effect.gen(function* () {
              decisions++
              yield* load(
                Streams.user("idem"),
                () => 0,
                (n: number) => n + 1
              )
              return { events: [userEvent("idem", decisions)], result: `result-${decisions}` }
            }),
          { metadata: testMetadata(), idempotencyKey: "user:idem:change-1", resultSchema: Schema.String }
        )
        const first = yield* run
        const second = yield* run
        const concurrent = yield* Effect.all([run, run, run], { concurrency: "unbounded" })
        expect(first.result).toBe("result-1")
        expect(second).toMatchObject({ result: "result-1", replayed: true, events: [] })
        expect(concurrent.map((r) => r.result)).toEqual(["result-1", "result-1", "result-1"])
        expect((yield* store.readStream(Streams.user("idem"))).version).toBe(1)
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("old schema versions are upcast on read and never rewritten", () =>
      Effect.gen(function* () {
        // Version 1 of PasswordChanged (imagined) called the field `hash`.
        yield* rawInsert({
          stream_id: Streams.user("old"),
          stream_version: 1,
          type: "PasswordChanged",
          schema_version: 1,
          data: JSON.stringify({ userId: "old", hash: "legacy", at: "2026-01-01T00:00:00.000Z" })
        })
        const schemas = {
          currentVersion: (type: string) => (type === "PasswordChanged" ? 2 : 1),
          upcasters: [
            {
              type: "PasswordChanged",
              fromVersion: 1,
              up: ({ hash, ...rest }: Record<string, unknown>) => ({ ...rest, passwordHash: hash })
            }
          ]
        }
        // A store of its own with these schemas, over the same database: the schemas are fixed at construction.
        const upcasting = yield* EventStore.pipe(
          Effect.provide(EventStore.DefaultWithoutDependencies.pipe(Layer.provide(EventSchemas.Test(schemas))))
        )
        const read = yield* upcasting.readStream(Streams.user("old"))
        expect(read.events[0]?.schemaVersion).toBe(2)
        expect((read.events[0]!.event as UserEvents.PasswordChanged).passwordHash).toBe("legacy")
        const again = yield* upcasting.readAll(0, 10)
        expect((again[0]!.event as UserEvents.PasswordChanged).passwordHash).toBe("legacy")
      }).pipe(Effect.provide(makeLayer()))
    )
  })
