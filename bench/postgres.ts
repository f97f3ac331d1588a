/**
 * `pg.append.*` and `pg.command.*`: append and command-path throughput on PostgreSQL against the floor:
 * the same event rows inserted by a bare `pg` loop, one transaction per event, with the same commit
 * durability (the cluster's defaults: fsync on, synchronous_commit on). Sequential, 16 concurrent callers,
 * and two instances (two pools, 8 callers each). Medians of 3 rounds, each figure run back to back with
 * its floor. Part of `pnpm bench` (bench/run.ts); also runs alone, printing the old table:
 * node --import tsx bench/postgres.ts [operations]    (starts and stops a throwaway cluster, or
 * uses BENCH_PG_URL, a superuser URL of an existing one)
 */

import type { SqlClient } from "@effect/sql"
import * as Core from "@orw/server/Core"
import { Database } from "@orw/server/DatabaseUrl"
import { Dispatcher } from "@orw/server/Dispatcher"
import type { EventStore } from "@orw/server/EventStore"
import { type Context, Effect, Exit, Layer, Logger, LogLevel, Redacted, Scope } from "effect"
import * as Pg from "pg"
import { addKey, register, testMetadata } from "../packages/server/test/support/Fixtures.js"
// @ts-expect-error: a plain ES module script without type declarations
import { start, stop } from "../scripts/pg-cluster.mjs"
import { appendOne, recordOne } from "./lib/operations.js"
import { higher, type Row } from "./lib/results.js"
import type { Benchmark } from "./run.js"

const standalone = process.argv[1] === new URL(import.meta.url).pathname
const operations = Number((standalone ? process.argv[2] : undefined) ?? process.env.BENCH_PG_N ?? 600)
const ROUNDS = 3
let adminUrl = process.env.BENCH_PG_URL ?? ""

const freshDatabase = async (name: string) => {
  const admin = new Pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.href
}

/** Runs `op(i)` for i < n with `callers` concurrent callers; returns operations per second. */
const rate = async (n: number, callers: number, op: (i: number) => Promise<unknown>) => {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < n; i = next++) await op(i)
    })
  )
  return (n / (performance.now() - started)) * 1000
}

/**
 * As {@link rate}, each caller running its own share, i = caller, caller + callers, ...: with 16 callers, caller
 * c's commands all go to key k<c> (recordOne) and, with two instances, to instance c % 2. One key per caller,
 * as a sync fiber per key records its usage; with a shared counter two callers could hold the same key at once
 * (and, since the callers of two instances are not answered together, often do), and commands on one key
 * wait for each other's commit.
 */
const rateByCaller = async (n: number, callers: number, op: (i: number) => Promise<unknown>) => {
  const started = performance.now()
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = caller; i < n; i += callers) await op(i)
    })
  )
  return (n / (performance.now() - started)) * 1000
}

const row = (i: number) => {
  const { _tag, ...data } = {
    _tag: "PasswordChanged",
    userId: `u${i}`,
    passwordHash: `h${i}`,
    at: new Date().toISOString()
  }
  return [`user:u${i}`, 1, _tag, 1, JSON.stringify(data), JSON.stringify(testMetadata()), new Date().toISOString()]
}

/** The floor: one event row per transaction, on a pool like ours. */
const floor = async (callers: number) => {
  const url = await freshDatabase("bench_floor")
  const pool = new Pg.Pool({ connectionString: url, max: 20 })
  await pool.query(`CREATE TABLE events (position BIGSERIAL PRIMARY KEY, stream_id TEXT NOT NULL,
    stream_version INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL,
    metadata TEXT NOT NULL, recorded_at TEXT NOT NULL, UNIQUE (stream_id, stream_version))`)
  const result = await rate(operations, callers, async (i) => {
    const client = await pool.connect()
    try {
      await client.query("BEGIN")
      await client.query(
        `INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING position`,
        row(i)
      )
      await client.query("COMMIT")
    } finally {
      client.release()
    }
  })
  await pool.end()
  return result
}

const quiet = Logger.minimumLogLevel(LogLevel.Warning)
const scopes: Array<Scope.CloseableScope> = []

/** An instance's core (its own pool) on `url`, open until the bench ends. */
const instance = (url: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      scopes.push(scope)
      return yield* Layer.buildWithScope(Core.layerDatabase(Database.Postgres({ url: Redacted.make(url) })), scope)
    }).pipe(Effect.provide(quiet))
  )

/** Ours, one instance or two: the store's append (streams claim, event insert) and the command path. */
const ours = async (callers: number, instances: 1 | 2) => {
  const url = await freshDatabase(`bench_ours_${callers}_${instances}`)
  const contexts: Array<Context.Context<SqlClient.SqlClient | EventStore | Dispatcher>> = []
  for (let n = 0; n < instances; n++) contexts.push(await instance(url))
  const on = <A, E>(i: number, effect: Effect.Effect<A, E, SqlClient.SqlClient | EventStore | Dispatcher>) =>
    Effect.runPromise(
      Effect.flatMap(Effect.fromNullable(contexts[i % instances]), (context) => Effect.provide(effect, context))
    )
  const append = await rate(operations, callers, (i) => on(i, appendOne(i)))
  await on(
    0,
    Effect.flatMap(Dispatcher, (d) => d.dispatch(register("owner", "bench@example.com"), { metadata: testMetadata() }))
  )
  for (let k = 0; k < 16; k++) {
    await on(
      0,
      Effect.flatMap(Dispatcher, (d) =>
        d.dispatch(addKey(`k${k}`, "owner", { max: 100 }), { metadata: testMetadata() })
      )
    )
  }
  // The command path: load (state cache), decide, append, inline projections, commit. One key per caller.
  const command = await rateByCaller(operations, callers, (i) => on(i, recordOne(i)))
  return { append, command }
}

const configurations = [
  { label: "sequential", name: "sequential", callers: 1, instances: 1 },
  { label: "16 concurrent callers", name: "concurrent16", callers: 16, instances: 1 },
  { label: "16 callers over two instances", name: "instances2", callers: 16, instances: 2 }
] as const

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** Every configuration, `rounds` times; the medians of floor, append and command. */
const measure = async (rounds: number) => {
  const cluster: { dir: string; url: string } | undefined =
    process.env.BENCH_PG_URL === undefined ? await start({ fast: false }) : undefined
  adminUrl = process.env.BENCH_PG_URL ?? cluster!.url
  try {
    console.log(`PostgreSQL bench: ${operations} operations per figure, fsync and synchronous_commit on`)
    const results = []
    for (const c of configurations) {
      const figures: Array<{ base: number; append: number; command: number }> = []
      for (let r = 0; r < rounds; r++) {
        const base = await floor(c.callers)
        const { append, command } = await ours(c.callers, c.instances)
        figures.push({ base, append, command })
        console.log(
          `${c.label.padEnd(30)} floor ${base.toFixed(0).padStart(6)}/s | append ${append.toFixed(0).padStart(6)}/s (${(append / base).toFixed(2)}x) | command ${command.toFixed(0).padStart(6)}/s (${(command / base).toFixed(2)}x)`
        )
      }
      results.push({
        ...c,
        base: median(figures.map((f) => f.base)),
        append: median(figures.map((f) => f.append)),
        command: median(figures.map((f) => f.command))
      })
    }
    return results
  } finally {
    for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void))
    if (cluster !== undefined) stop(cluster.dir)
  }
}

const run = async (): Promise<ReadonlyArray<Row>> =>
  (await measure(ROUNDS)).flatMap((c) =>
    (["append", "command"] as const).map((what) =>
      higher({
        name: `pg.${what}.${c.name}`,
        value: c[what],
        unit: what === "append" ? "appends/s" : "commands/s",
        reference: `bare pg loop, one event row per transaction, ${c.callers === 1 ? "1 caller" : `${c.callers} callers`}, fsync + synchronous_commit on`,
        reference_value: c.base,
        target: ">= 0.5",
        atLeast: 0.5,
        note: `${what === "append" ? "EventStore.append (streams claim, event insert)" : "RecordUsage through the Dispatcher"}; ${c.instances} instance${c.instances === 1 ? "" : "s"}; median of ${ROUNDS} rounds of ${operations}`
      })
    )
  )

export const benchmarks: ReadonlyArray<Benchmark> = [
  {
    names: configurations.flatMap((c) => [`pg.append.${c.name}`, `pg.command.${c.name}`]),
    run
  }
]

if (standalone) {
  await measure(1)
  process.exit(0)
}
