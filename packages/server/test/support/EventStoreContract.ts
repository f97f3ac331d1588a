import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Streams, UserEvents, UserId } from "@orw/domain"
import { type Context, Effect, Either, Layer, type Scope } from "effect"
import { CommandHandler } from "../../src/CommandHandler.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { ConcurrencyConflict, EventSchemas, EventStore } from "../../src/EventStore.js"
import { addKey, at, register, testMetadata } from "./Fixtures.js"

type Core = Dispatcher | CommandHandler | EventStore | SqlClient.SqlClient

/**
 * The contract every event store implementation must keep. `makeLayer` gives a fresh,
 * empty store; `connect` two independent connections (each with its own core, as two
 * processes would have) to one fresh, empty store, for the rules that must hold across
 * connections without relying on the engine having a single writer.
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
  }) => Effect.Effect<void, unknown, SqlClient.SqlClient>,
  connect: () => Effect.Effect<readonly [Context.Context<Core>, Context.Context<Core>], unknown, Scope.Scope>
) =>
  describe(`event store contract: ${name}`, () => {
    const userEvent = (userId: string, i: number) =>
      new UserEvents.PasswordChanged({ userId: UserId.make(userId), passwordHash: `h${i}`, at: at() })
    /** A fold that counts events: the state of a stream is its version. */
    const count = (n: number) => n + 1

    /** Appends `n` events to a user stream on one connection, in a transaction of its own. */
    const appendOn = (ctx: Context.Context<Core>, userId: string, expected: number, n: number) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const store = yield* EventStore
        return yield* sql.withTransaction(
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
        )
      }).pipe(Effect.catchTag("SqlError", Effect.die), Effect.provide(ctx))

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

    it.effect("a retried command with the same idempotency key is not decided again and appends nothing", () =>
      Effect.gen(function* () {
        const handler = yield* CommandHandler
        const store = yield* EventStore
        let decisions = 0
        const run = handler.execute(
          (load) =>
            Effect.gen(function* () {
              decisions++
              yield* load(Streams.user("idem"), () => 0, count)
              return { events: [userEvent("idem", decisions)], result: `result-${decisions}` }
            }),
          { metadata: testMetadata(), idempotencyKey: "user:idem:change-1" }
        )
        const first = yield* run
        const second = yield* Effect.either(run)
        const concurrent = yield* Effect.all([run, run, run].map(Effect.either), { concurrency: "unbounded" })
        expect(first.result).toBe("result-1")
        expect(first.events).toHaveLength(1)
        for (const repeat of [second, ...concurrent]) {
          expect(Either.isLeft(repeat) && repeat.left).toBeInstanceOf(ConcurrencyConflict)
        }
        expect(decisions).toBe(1)
        expect((yield* store.readStream(Streams.user("idem"))).version).toBe(1)
      }).pipe(Effect.provide(makeLayer()))
    )

    it.effect("an append at a version the stream has not reached is a conflict and leaves no gap", () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const write = (expected: number) =>
          store.append(
            [{ streamId: Streams.user("a"), expectedVersion: expected, events: [userEvent("a", expected)] }],
            testMetadata()
          )
        yield* write(0)
        const ahead = yield* Effect.either(write(3))
        expect(Either.isLeft(ahead) && ahead.left).toBeInstanceOf(ConcurrencyConflict)
        const stream = yield* store.readStream(Streams.user("a"))
        expect(stream.events.map((e) => e.streamVersion)).toEqual([1])
        yield* write(1)
        expect((yield* store.readStream(Streams.user("a"))).version).toBe(2)
      }).pipe(Effect.provide(makeLayer()))
    )

    it.scoped("two connections appending at the same expected version: exactly one wins", () =>
      Effect.gen(function* () {
        const [a, b] = yield* connect()
        yield* appendOn(a, "shared", 0, 1)
        // Both decided on version 1; each commits in its own transaction on its own connection.
        const results = [
          yield* Effect.either(appendOn(a, "shared", 1, 2)),
          yield* Effect.either(appendOn(b, "shared", 1, 3))
        ]
        expect(results.map(Either.isRight)).toEqual([true, false])
        expect(Either.isLeft(results[1]!) && results[1].left).toBeInstanceOf(ConcurrencyConflict)
        const stream = yield* Effect.provide(
          Effect.flatMap(EventStore, (s) => s.readStream(Streams.user("shared"))),
          b
        )
        expect(stream.events.map((e) => e.streamVersion)).toEqual([1, 2, 3])
        expect(stream.events.map((e) => (e.event as UserEvents.PasswordChanged).passwordHash)).toEqual([
          "h0",
          "h0",
          "h1"
        ])
      })
    )

    for (const before of [0, 1]) {
      // Live clock: the retry waits out its (millisecond) backoff for real.
      it.scopedLive(
        `a guard at version ${before} moved on another connection between decision and commit is a conflict; the retry decides on fresh state`,
        () =>
          Effect.gen(function* () {
            const [a, b] = yield* connect()
            if (before > 0) yield* appendOn(a, "guarded", 0, before)
            const seen: Array<number> = []
            const executed = yield* Effect.provide(
              Effect.flatMap(CommandHandler, (handler) =>
                handler.execute(
                  (load) =>
                    Effect.gen(function* () {
                      const guarded = yield* load(Streams.user("guarded"), () => 0, count)
                      const written = yield* load(Streams.user("written"), () => 0, count)
                      seen.push(guarded)
                      // The other connection moves the guarded stream after this decision read it.
                      if (seen.length === 1) yield* Effect.orDie(appendOn(b, "guarded", guarded, 1))
                      return { events: [userEvent("written", written)], result: guarded }
                    }),
                  { metadata: testMetadata() }
                )
              ),
              a
            )
            expect(seen).toEqual([before, before + 1])
            expect(executed.result).toBe(before + 1)
            const versions = yield* Effect.provide(
              Effect.flatMap(EventStore, (s) =>
                Effect.all([s.readStream(Streams.user("guarded")), s.readStream(Streams.user("written"))])
              ),
              b
            )
            expect(versions.map((v) => v.version)).toEqual([before + 1, 1])
          })
      )
    }

    it.scoped(
      "an idempotency key recorded on another connection during the decision ends the command: no retry, no append",
      () =>
        Effect.gen(function* () {
          const [a, b] = yield* connect()
          let decisions = 0
          const command = (onFirst: Effect.Effect<unknown>): Effect.Effect<unknown, unknown, Core> =>
            Effect.flatMap(CommandHandler, (handler) =>
              handler.execute(
                (load) =>
                  Effect.gen(function* () {
                    decisions++
                    const version = yield* load(Streams.user("idem"), () => 0, count)
                    if (decisions === 1) yield* onFirst
                    return { events: [userEvent("idem", version)], result: decisions }
                  }),
                { metadata: testMetadata(), idempotencyKey: "user:idem:race" }
              )
            )
          // The same request, retried by the client on the other connection, commits first.
          const other = Effect.orDie(Effect.provide(command(Effect.void), b))
          const result = yield* Effect.either(Effect.provide(command(other), a))
          expect(Either.isLeft(result) && result.left).toBeInstanceOf(ConcurrencyConflict)
          expect(decisions).toBe(2)
          const stream = yield* Effect.provide(
            Effect.flatMap(EventStore, (s) => s.readStream(Streams.user("idem"))),
            a
          )
          expect(stream.version).toBe(1)
        })
    )

    it.scopedLive("the streams table holds each stream's version, MAX(stream_version), after a mixed run", () =>
      Effect.gen(function* () {
        const [a, b] = yield* connect()
        const on = (ctx: Context.Context<Core>) =>
          Effect.flatMap(Dispatcher, (dispatcher) =>
            Effect.all(
              [
                ...Array.from({ length: 4 }, (_, i) =>
                  dispatcher.dispatch(register(`mixed-${i}`, "mixed@example.com"), { metadata: testMetadata() })
                ),
                dispatcher.dispatch(register("owner", "owner@example.com"), { metadata: testMetadata() }),
                ...Array.from({ length: 5 }, (_, i) =>
                  dispatcher.dispatch(addKey(`k${i}`, "owner", { max: 3 }), { metadata: testMetadata() })
                )
              ].map((command) => Effect.either<ReadonlyArray<unknown>, unknown, SqlClient.SqlClient>(command)),
              { concurrency: "unbounded" }
            )
          ).pipe(Effect.provide(ctx))
        yield* on(a)
        yield* on(b)
        yield* Effect.either(appendOn(b, "plain", 0, 1))
        yield* Effect.either(appendOn(a, "plain", 0, 2))
        yield* Effect.either(appendOn(a, "plain", 1, 3))
        const [streams, maxima, orphans] = yield* Effect.provide(
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            Effect.all([
              sql<{ stream_id: string; version: number }>`SELECT stream_id, version FROM streams
                WHERE version > 0 ORDER BY stream_id`,
              sql<{ stream_id: string; version: number }>`SELECT stream_id, MAX(stream_version) AS version
                FROM events GROUP BY stream_id ORDER BY stream_id`,
              sql<{ stream_id: string }>`SELECT stream_id FROM streams s WHERE version = 0
                AND EXISTS (SELECT 1 FROM events e WHERE e.stream_id = s.stream_id)`
            ])
          ),
          a
        )
        const rows = (rs: ReadonlyArray<{ stream_id: string; version: number }>) =>
          rs.map((r) => [r.stream_id, Number(r.version)])
        expect(rows(streams)).toEqual(rows(maxima))
        // Users, emails, keys, the owner's user stream and the plain stream: the run did reach every kind.
        expect(rows(maxima)).toContainEqual([Streams.user("plain"), 4])
        expect(maxima.length).toBeGreaterThanOrEqual(7)
        expect(orphans).toEqual([])
      })
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
