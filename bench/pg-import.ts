/**
 * What a key's history costs on a PostgreSQL some distance away: RecordActivity of 30 days (a sync's revision
 * window) and of a year (the first sync's analytics import), three models a day, through the Dispatcher, over
 * a TCP relay that delays every packet by `delay` ms each way and counts round trips. A diagnostic, not a
 * benchmark with a target:
 *
 *   BENCH_PG_URL=<superuser url> node --import tsx bench/pg-import.ts [delay ms, default 1]
 *
 * (a cluster from `node scripts/pg-cluster.mjs start`; makes and drops a database of its own).
 */
import * as Net from "node:net"
import { ApiKeyId, type Micros, SyncCommands, UtcDate } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { Database } from "@orw/server/DatabaseUrl"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Exit, Layer, Logger, LogLevel, Redacted, Scope } from "effect"
import * as Pg from "pg"
import { addKey, register, testMetadata } from "../packages/server/test/support/Fixtures.js"

const adminUrl = process.env.BENCH_PG_URL
if (adminUrl === undefined) throw new Error("BENCH_PG_URL: a superuser URL of a throwaway cluster")
const delay = Number(process.argv[2] ?? 1)
const name = "bench_import"

const admin = new Pg.Client({ connectionString: adminUrl })
await admin.connect()
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
await admin.query(`CREATE DATABASE ${name}`)
const target = new URL(adminUrl)
target.pathname = `/${name}`

// The relay: a round is the client speaking after the server has.
let rounds = 0
const relay = Net.createServer((client) => {
  let spoke: "client" | "server" = "server"
  const upstream = Net.connect(Number(target.port), target.hostname)
  client.on("data", (chunk) => {
    if (spoke === "server") rounds++
    spoke = "client"
    setTimeout(() => upstream.write(chunk), delay)
  })
  upstream.on("data", (chunk) => {
    spoke = "server"
    setTimeout(() => client.write(chunk), delay)
  })
  client.on("close", () => upstream.destroy())
  upstream.on("close", () => client.destroy())
  client.on("error", () => upstream.destroy())
  upstream.on("error", () => client.destroy())
})
await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve))
const url = new URL(target.href)
url.port = String((relay.address() as Net.AddressInfo).port)

const scope = Effect.runSync(Scope.make())
const core = await Effect.runPromise(
  Layer.buildWithScope(Core.layerDatabase(Database.Postgres({ url: Redacted.make(url.href) })), scope).pipe(
    Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
)
const dispatch = (command: Parameters<Dispatcher["dispatch"]>[0]) =>
  Effect.runPromise(
    Effect.provide(
      Effect.flatMap(Dispatcher, (d) => d.dispatch(command, { metadata: testMetadata() })),
      core
    )
  )
await dispatch(register("owner", "bench@example.com"))
await dispatch(addKey("k0", "owner"))

const day = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)
console.log(`RecordActivity over a relay adding ${delay} ms each way`)
for (const days of [30, 365]) {
  const totals = Array.from({ length: days * 3 }, (_, i) => ({
    date: UtcDate.make(day(Math.floor(i / 3))),
    model: `model-${i % 3}`,
    requests: 1 + days,
    tokensInput: 10,
    tokensOutput: 5,
    cost: (100 + days) as Micros,
    byokCost: 0 as Micros
  }))
  rounds = 0
  const started = performance.now()
  const events = await dispatch(
    new SyncCommands.RecordActivity({ keyId: ApiKeyId.make("k0"), totals, at: DateTime.unsafeNow() })
  )
  const ms = performance.now() - started
  console.log(
    `${String(days).padStart(3)} days x 3 models: ${String(events.length).padStart(4)} events | ${String(rounds).padStart(4)} round trips | ${ms.toFixed(0).padStart(5)} ms`
  )
}
await Effect.runPromise(Scope.close(scope, Exit.void))
relay.close()
await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
await admin.end()
process.exit(0)
