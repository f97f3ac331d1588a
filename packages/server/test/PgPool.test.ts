/**
 * The PostgreSQL pool's connections (PgPool.ts): a transaction's BEGIN goes out with its first statement, a
 * transaction that sends nothing sends nothing, and the store's appends are prepared once per connection.
 * Round trips are counted on the wire, by a TCP relay between the server's pool and the test cluster: a
 * round is the client speaking after the server has.
 */
import * as Net from "node:net"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeyId, Streams, SyncCommands, UserEvents, UserId, UtcDate } from "@orw/domain"
import { DateTime, Effect, Either, Layer, Redacted } from "effect"
import * as Pg from "pg"
import * as Core from "../src/Core.js"
import { Database } from "../src/DatabaseUrl.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import { DEFERRED, NAMED } from "../src/PgPool.js"
import * as Sql from "../src/Sql.js"
import { addKey, register, testMetadata } from "./support/Fixtures.js"
import { freshDatabase } from "./support/Postgres.js"

/** A relay to `target` on a port of its own, counting the client's rounds (all connections together). */
const relay = (target: URL) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly rounds: { count: number }; readonly server: Net.Server }>(
      (resume) => {
        const rounds = { count: 0 }
        const server = Net.createServer((client) => {
          let spoke: "client" | "server" = "server"
          const upstream = Net.connect(Number(target.port), target.hostname)
          client.on("data", (chunk) => {
            if (spoke === "server") rounds.count++
            spoke = "client"
            upstream.write(chunk)
          })
          upstream.on("data", (chunk) => {
            spoke = "server"
            client.write(chunk)
          })
          client.on("close", () => upstream.destroy())
          upstream.on("close", () => client.destroy())
          client.on("error", () => upstream.destroy())
          upstream.on("error", () => client.destroy())
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address() as Net.AddressInfo
          const url = new URL(target.href)
          url.port = String(address.port)
          resume(Effect.succeed({ url: url.href, rounds, server }))
        })
      }
    ),
    ({ server }) => Effect.sync(() => server.close())
  )

/** The server's SQL client on a fresh database, through a relay; with the table `probe`. */
const setup = Effect.gen(function* () {
  const { url } = yield* Effect.promise(() => freshDatabase())
  const relayed = yield* relay(new URL(url))
  const context = yield* Layer.build(Sql.layerPostgres(Redacted.make(relayed.url)))
  const sql = yield* Effect.provide(SqlClient.SqlClient, context)
  yield* sql`CREATE TABLE probe (id INTEGER PRIMARY KEY)`
  /** The rounds `effect` took (after one warm-up transaction, so that no connection is opened in it). */
  const roundsOf = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      relayed.rounds.count = 0
      const exit = yield* Effect.either(effect)
      return { rounds: relayed.rounds.count, exit }
    })
  yield* sql.withTransaction(sql`SELECT 1`)
  return { sql, url, context, roundsOf }
})

/** The rows of `probe`, read on a connection of its own (what others see committed). */
const committed = (url: string) =>
  Effect.promise(async () => {
    const client = new Pg.Client({ connectionString: url })
    await client.connect()
    try {
      return (await client.query("SELECT id FROM probe ORDER BY id")).rows.map((row) => Number(row.id))
    } finally {
      await client.end()
    }
  })

describe("PostgreSQL pool: BEGIN with the first statement", () => {
  it.scoped("a transaction of one statement takes two round trips, and commits", () =>
    Effect.gen(function* () {
      const { sql, url, roundsOf } = yield* setup
      const { rounds, exit } = yield* roundsOf(sql.withTransaction(sql`INSERT INTO probe VALUES (1)`))
      expect(Either.isRight(exit)).toBe(true)
      // BEGIN and the INSERT in one, COMMIT in the other (@effect/sql alone takes three).
      expect(rounds).toBe(2)
      expect(yield* committed(url)).toEqual([1])
      const three = yield* roundsOf(
        sql.withTransaction(Effect.zipRight(sql`INSERT INTO probe VALUES (2)`, sql`INSERT INTO probe VALUES (3)`))
      )
      expect(three.rounds).toBe(3)
      expect(yield* committed(url)).toEqual([1, 2, 3])
    })
  )

  it.scoped("a transaction that sends nothing sends nothing, and leaves no BEGIN behind", () =>
    Effect.gen(function* () {
      const { sql, url, roundsOf } = yield* setup
      const empty = yield* roundsOf(sql.withTransaction(Effect.void))
      expect([empty.rounds, Either.isRight(empty.exit)]).toEqual([0, true])
      const failed = yield* roundsOf(sql.withTransaction(Effect.fail("no")))
      expect([failed.rounds, Either.isLeft(failed.exit)]).toEqual([0, true])
      // The next statement outside a transaction commits by itself: it was not taken into a held-back BEGIN.
      yield* sql`INSERT INTO probe VALUES (7)`
      expect(yield* committed(url)).toEqual([7])
    })
  )

  it.scoped("a failing statement rolls the whole transaction back; the connection serves the next one", () =>
    Effect.gen(function* () {
      const { sql, url } = yield* setup
      yield* sql`INSERT INTO probe VALUES (1)`
      const failed = yield* Effect.either(
        sql.withTransaction(Effect.zipRight(sql`INSERT INTO probe VALUES (2)`, sql`INSERT INTO probe VALUES (1)`))
      )
      expect(Either.isLeft(failed)).toBe(true)
      // Failing first, with BEGIN in the same write: the error is the statement's.
      const first = yield* Effect.either(sql.withTransaction(sql`INSERT INTO probe VALUES (1)`))
      expect(Either.isLeft(first) && String(first.left.cause)).toMatch(/duplicate key/)
      yield* sql.withTransaction(sql`INSERT INTO probe VALUES (3)`)
      expect(yield* committed(url)).toEqual([1, 3])
    })
  )

  it.scoped("a nested transaction's savepoint, first in the transaction, is inside it", () =>
    Effect.gen(function* () {
      const { sql, url } = yield* setup
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql.withTransaction(sql`INSERT INTO probe VALUES (1)`)
          yield* Effect.either(sql.withTransaction(sql`INSERT INTO probe VALUES (1)`))
          yield* sql`INSERT INTO probe VALUES (2)`
        })
      )
      expect(yield* committed(url)).toEqual([1, 2])
      // Inside it, as the rollback shows: nothing of a failed outer transaction stays.
      yield* Effect.either(
        sql.withTransaction(
          Effect.zipRight(sql.withTransaction(sql`INSERT INTO probe VALUES (5)`), Effect.fail("outer fails"))
        )
      )
      expect(yield* committed(url)).toEqual([1, 2])
    })
  )
})

describe("PostgreSQL pool: the store's appends prepared once", () => {
  it.scoped("an append's statement is prepared under a name once per connection, and reused", () =>
    Effect.gen(function* () {
      const { context } = yield* setup
      const program = Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const store = yield* EventStore
        const append = (i: number) =>
          store.append(
            [
              {
                streamId: Streams.user(`u${i}`),
                expectedVersion: 0,
                events: [
                  new UserEvents.PasswordChanged({
                    userId: UserId.make(`u${i}`),
                    passwordHash: `h${i}`,
                    at: DateTime.unsafeNow()
                  })
                ]
              }
            ],
            testMetadata()
          )
        // One connection (one transaction): three appends of the same shape and one of 200 events (a text too
        // long to keep a name for), then what that session prepared.
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            for (let i = 0; i < 3; i++) yield* append(i)
            yield* store.append(
              [
                {
                  streamId: Streams.user("many"),
                  expectedVersion: 0,
                  events: Array.from(
                    { length: 200 },
                    (_, i) =>
                      new UserEvents.PasswordChanged({
                        userId: UserId.make("many"),
                        passwordHash: `h${i}`,
                        at: DateTime.unsafeNow()
                      })
                  )
                }
              ],
              testMetadata()
            )
            return yield* sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`
          })
        )
      })
      const prepared = yield* Effect.provide(
        program,
        EventStore.Default.pipe(Layer.provideMerge(Layer.succeedContext(context)))
      )
      const ours = prepared.filter((row) => row.statement.startsWith(NAMED))
      expect(ours.length).toBe(1)
      expect(ours[0]?.name).toMatch(/^orw_s\d+$/)
      expect(ours[0]?.statement).toContain("INSERT INTO events")
    })
  )

  it.scoped("statements without the mark are not prepared", () =>
    Effect.gen(function* () {
      const { sql } = yield* setup
      const prepared = yield* sql.withTransaction(
        Effect.zipRight(
          sql`SELECT ${1}::int AS one`,
          sql<{ name: string }>`SELECT name FROM pg_prepared_statements WHERE name LIKE ${"orw_%"}`
        )
      )
      expect(prepared).toEqual([])
    })
  )
})

describe("PostgreSQL pool: writes sent without waiting", () => {
  const deferred = (sql: SqlClient.SqlClient, id: number) =>
    sql.unsafe(`${DEFERRED}INSERT INTO probe VALUES ($1)`, [id])

  it.scoped(
    "deferred writes and the statement after them go out together: a transaction of 11 in two round trips",
    () =>
      Effect.gen(function* () {
        const { sql, url, roundsOf } = yield* setup
        const { rounds, exit } = yield* roundsOf(
          sql.withTransaction(
            Effect.gen(function* () {
              for (let id = 1; id <= 10; id++) yield* deferred(sql, id)
              yield* sql`INSERT INTO probe VALUES (11)`
            })
          )
        )
        expect(Either.isRight(exit)).toBe(true)
        expect(rounds).toBe(2)
        expect(yield* committed(url)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1))
      })
  )

  it.scoped("a deferred write that fails fails the statement after it, with its own error; nothing commits", () =>
    Effect.gen(function* () {
      const { sql, url } = yield* setup
      yield* sql`INSERT INTO probe VALUES (2)`
      const failed = yield* Effect.either(
        sql.withTransaction(
          Effect.gen(function* () {
            yield* deferred(sql, 1)
            yield* deferred(sql, 2)
            yield* deferred(sql, 3)
            yield* sql`INSERT INTO probe VALUES (4)`
          })
        )
      )
      // The duplicate of 2, not "current transaction is aborted" (the error the fourth statement itself got).
      expect(Either.isLeft(failed) && String(failed.left.cause)).toMatch(/duplicate key/)
      expect(yield* committed(url)).toEqual([2])
      // What a rolled-back transaction sent without waiting is not reported to the next one.
      yield* Effect.either(
        sql.withTransaction(Effect.zipRight(deferred(sql, 2), Effect.fail("abandoned before any other statement")))
      )
      yield* sql.withTransaction(sql`INSERT INTO probe VALUES (5)`)
      expect(yield* committed(url)).toEqual([2, 5])
    })
  )

  it.scoped("a year of a key's history (1,095 events, two projection writes each) in a handful of round trips", () =>
    Effect.gen(function* () {
      const { url } = yield* Effect.promise(() => freshDatabase())
      const relayed = yield* relay(new URL(url))
      const core = yield* Layer.build(Core.layerDatabase(Database.Postgres({ url: Redacted.make(relayed.url) })))
      const dispatch = (command: Parameters<Dispatcher["dispatch"]>[0]) =>
        Effect.provide(
          Effect.flatMap(Dispatcher, (d) => d.dispatch(command, { metadata: testMetadata() })),
          core
        )
      yield* dispatch(register("owner", "owner@example.com"))
      yield* dispatch(addKey("k0", "owner"))
      const day = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)
      const totals = Array.from({ length: 365 * 3 }, (_, i) => ({
        date: UtcDate.make(day(Math.floor(i / 3))),
        model: `model-${i % 3}`,
        requests: 1 + (i % 3),
        tokensInput: 10,
        tokensOutput: 5,
        cost: (100 + i) as never,
        byokCost: 0 as never
      }))
      relayed.rounds.count = 0
      const events = yield* dispatch(
        new SyncCommands.RecordActivity({ keyId: ApiKeyId.make("k0"), totals, at: DateTime.unsafeNow() })
      )
      const rounds = relayed.rounds.count
      expect(events.length).toBe(1095)
      // Reads, the append, the projections' 2,190 writes, the checkpoint move, COMMIT: one round trip each
      // at most, not one per write.
      expect(rounds).toBeLessThan(20)
      const sql = yield* Effect.provide(SqlClient.SqlClient, core)
      const [sums] = yield* sql<{ rows: number; requests: number; cost: number }>`SELECT COUNT(*)::int AS rows,
        SUM(requests_count)::int AS requests, SUM(cost_micros)::bigint AS cost FROM usage_stats WHERE api_key_id = 'k0'`
      expect(sums).toEqual({
        rows: 1095,
        requests: totals.reduce((sum, t) => sum + t.requests, 0),
        cost: totals.reduce((sum, t) => sum + Number(t.cost), 0)
      })
      const [key] = yield* sql<{ last_used_at: string | null }>`SELECT last_used_at FROM api_keys WHERE id = 'k0'`
      expect(key?.last_used_at).not.toBeNull()
    })
  )
})
