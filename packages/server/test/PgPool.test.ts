/**
 * The PostgreSQL pool's connections (PgPool.ts): a transaction's BEGIN goes out with its first statement, a
 * transaction that sends nothing sends nothing, and the store's appends are prepared once per connection.
 * Round trips are counted on the wire, by a TCP relay between the server's pool and the test cluster: a
 * round is the client speaking after the server has.
 */
import * as Net from "node:net"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Streams, UserEvents, UserId } from "@orw/domain"
import { DateTime, Effect, Either, Layer, Redacted } from "effect"
import * as Pg from "pg"
import { EventStore } from "../src/EventStore.js"
import { NAMED } from "../src/PgPool.js"
import * as Sql from "../src/Sql.js"
import { testMetadata } from "./support/Fixtures.js"
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
        // One connection (one transaction): three appends of the same shape, then what that session prepared.
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            for (let i = 0; i < 3; i++) yield* append(i)
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
