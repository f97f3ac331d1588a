import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import * as Sql from "../src/Sql.js"
import { eventStoreContract } from "./support/EventStoreContract.js"
import { register, testMetadata } from "./support/Fixtures.js"
import { freshDatabase } from "./support/Postgres.js"

const rawInsert = (row: Record<string, unknown>) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`INSERT INTO events ${sql.insert({ ...row, metadata: JSON.stringify(testMetadata()), recorded_at: "2026-01-01T00:00:00.000Z" })}`
  )

const fresh = Effect.promise(() => freshDatabase())

/** A fresh, empty database on the test cluster, with the core over its own pool. */
const makeLayer = () => Layer.unwrapEffect(Effect.map(fresh, ({ database }) => Core.layerDatabase(database)))

/** Two pools (two processes' worth of connections) on one fresh database, the second opened after the first. */
const connect = () =>
  Effect.gen(function* () {
    const { database } = yield* fresh
    const first = yield* Layer.build(Core.layerDatabase(database))
    const second = yield* Layer.build(Core.layerDatabase(database))
    return [first, second] as const
  })

eventStoreContract("PostgreSQL", makeLayer, rawInsert, connect)

describe("PostgreSQL specifics", () => {
  it.scoped("instances starting together on an empty database migrate it once and both serve", () =>
    Effect.gen(function* () {
      const { database } = yield* fresh
      const cores = yield* Effect.all(
        Array.from({ length: 4 }, () => Layer.build(Core.layerDatabase(database))),
        { concurrency: "unbounded" }
      )
      const [first] = cores
      const applied = yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ migration_id: number }>`SELECT migration_id FROM effect_sql_migrations ORDER BY migration_id`
      ).pipe(Effect.provide(first!))
      expect(applied.map((r) => r.migration_id)).toEqual(Object.keys(Sql.migrations).map((n) => Number.parseInt(n, 10)))
      const results = yield* Effect.all(
        cores.map((ctx, i) =>
          Effect.either(
            Effect.flatMap(Dispatcher, (d) =>
              d.dispatch(register(`u${i}`, "same@example.com"), { metadata: testMetadata() })
            ).pipe(Effect.provide(ctx))
          )
        ),
        { concurrency: "unbounded" }
      )
      expect(results.filter((r) => r._tag === "Right")).toHaveLength(1)
    })
  )

  it.scoped("a database migrated by a newer release is refused, saying so", () =>
    Effect.gen(function* () {
      const { database } = yield* fresh
      if (database._tag !== "Postgres") return yield* Effect.dieMessage("expected a PostgreSQL database")
      yield* Layer.build(Core.layerDatabase(database))
      yield* Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql`INSERT INTO effect_sql_migrations (migration_id, name) VALUES (9999, 'from_the_future')`
      ).pipe(Effect.provide(Sql.layerPostgres(database.url)))
      const error = yield* Effect.flip(Layer.build(Core.layerDatabase(database)))
      expect(String(error)).toMatch(/migrated by a newer version of openrouter-watcher \(migration 9999/)
    })
  )
})
