/**
 * Where a PostgreSQL append and command spend their time, in figures that do not depend on the machine's
 * load: statements sent (each one a network round trip) and CPU per operation, beside the wall clock.
 * Not a benchmark with a target (bench/postgres.ts has those): a diagnostic for before/after comparisons.
 *
 *   BENCH_PG_URL=<superuser url> node --import tsx bench/pg-roundtrips.ts [operations]
 *
 * (a cluster from `node scripts/pg-cluster.mjs start`; makes and drops a database of its own). It runs
 * `EventStore.append` in a transaction of its own (the `pg.append.*` op), then RecordUsage through the
 * Dispatcher (the `pg.command.*` op), sequentially and with 16 callers, after a warm-up.
 */
import { SqlClient } from "@effect/sql"
import * as Core from "@orw/server/Core"
import { Database } from "@orw/server/DatabaseUrl"
import { Dispatcher } from "@orw/server/Dispatcher"
import type { EventStore } from "@orw/server/EventStore"
import { type Context, Effect, Exit, Layer, Logger, LogLevel, Redacted, Scope } from "effect"
import * as Pg from "pg"
import { addKey, register, testMetadata } from "../packages/server/test/support/Fixtures.js"
import { appendOne, recordOne } from "./lib/operations.js"

const adminUrl = process.env.BENCH_PG_URL
if (adminUrl === undefined) throw new Error("BENCH_PG_URL: a superuser URL of a throwaway cluster")
const operations = Number(process.argv[2] ?? 200)
const name = "bench_roundtrips"

const admin = new Pg.Client({ connectionString: adminUrl })
await admin.connect()
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(adminUrl)
url.pathname = `/${name}`

const scope = Effect.runSync(Scope.make())
const core = await Effect.runPromise(
  Layer.buildWithScope(Core.layerDatabase(Database.Postgres({ url: Redacted.make(url.href) })), scope).pipe(
    Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
)
const on = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient | EventStore | Dispatcher>) =>
  Effect.runPromise(Effect.provide(effect, core as Context.Context<SqlClient.SqlClient | EventStore | Dispatcher>))

// Every statement of every pool goes through pg's Client.prototype.query (one round trip each).
let statements = 0
const prototype = Pg.Client.prototype as unknown as { query: (...args: Array<unknown>) => unknown }
const query = prototype.query
prototype.query = function (this: unknown, ...args: Array<unknown>) {
  statements++
  return query.apply(this, args)
}

const append = (i: number) => on(appendOne(i))

const command = (i: number) => on(recordOne(i))

/** `n` operations from `callers` concurrent callers: statements and CPU per operation, and the rate. */
const measure = async (label: string, callers: number, from: number, op: (i: number) => Promise<unknown>) => {
  statements = 0
  let next = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < operations; i = next++) await op(from + i)
    })
  )
  const wall = performance.now() - started
  const used = process.cpuUsage(cpu)
  console.log(
    `${label.padEnd(24)} ${((operations / wall) * 1000).toFixed(0).padStart(5)}/s | ${(statements / operations).toFixed(2)} statements/op | CPU ${((used.user + used.system) / 1000 / operations).toFixed(2)} ms/op | wall ${(wall / operations).toFixed(2)} ms/op`
  )
}

await on(
  Effect.flatMap(Dispatcher, (d) => d.dispatch(register("owner", "bench@example.com"), { metadata: testMetadata() }))
)
for (let k = 0; k < 16; k++) {
  await on(
    Effect.flatMap(Dispatcher, (d) => d.dispatch(addKey(`k${k}`, "owner", { max: 100 }), { metadata: testMetadata() }))
  )
}
for (let i = 0; i < 50; i++) await append(1_000_000 + i)
for (let i = 0; i < 50; i++) await command(1_000_000 + i)
console.log(
  `${operations} operations each, load average ${(await import("node:os"))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`
)
// What the client library itself costs a transaction of one statement, beside bare pg doing the same: the
// part of the append op's CPU that is neither the store's nor the database's.
const bare = new Pg.Pool({ connectionString: url.href, max: 20 })
const bareTransaction = async () => {
  const client = await bare.connect()
  try {
    await client.query("BEGIN")
    await client.query("SELECT $1::int AS one", [1])
    await client.query("COMMIT")
  } finally {
    client.release()
  }
}
const clientTransaction = () =>
  on(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(sql.unsafe("SELECT $1::int AS one", [1]))))
for (let i = 0; i < 50; i++) await Promise.all([bareTransaction(), clientTransaction()])
await measure("bare pg transaction", 1, 0, bareTransaction)
await measure("@effect/sql transaction", 1, 0, clientTransaction)
await bare.end()
await measure("append, sequential", 1, 0, append)
await measure("append, 16 callers", 16, operations, append)
await measure("command, sequential", 1, 0, command)
await measure("command, 16 callers", 16, operations, command)
await Effect.runPromise(Scope.close(scope, Exit.void))
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
await admin.end()
process.exit(0)
