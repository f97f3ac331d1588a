/**
 * `append.sequential` and `append.concurrent16`: RecordUsage commands through the whole command path
 * (load, decide, append, inline projections, commit with fsync, the budget and spike evaluation that
 * follows) on a SQLite file (WAL, synchronous = FULL), against raw better-sqlite3 running the same
 * statements per command at the same durability: one transaction per command for the sequential
 * reference, 16 commands per transaction for the concurrent one. Medians of 3 rounds, back to back.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { ApiKeyId, type Micros, UsageCommands, UtcDate } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { allProjections } from "../packages/server/src/Projections/index.js"
import { addKey, register, testMetadata } from "../packages/server/test/support/Fixtures.js"
import { higher, type Row } from "./lib/results.js"
import { type Db, openRaw } from "./lib/sqlite.js"
import type { Benchmark } from "./run.js"

const ROUNDS = 3
const SEQUENTIAL = Number(process.env.BENCH_APPEND_N ?? 1000)
const CONCURRENT = SEQUENTIAL * 3
const CALLERS = 16
/** The names the projection lock and the checkpoint move name, as the Projector does. */
const PROJECTIONS = allProjections.map((p) => p.name)

const dayOf = (i: number) => new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86_400_000).toISOString().slice(0, 10)
const modelOf = (i: number) => `model-${i % 7}`
const figures = { requests: 1, tokensInput: 100, tokensOutput: 50, cost: 1234 as Micros, byokCost: 0 }

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** A migrated file with one user and 16 keys, made through the command path. */
const prepared = async () => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-bench-append-"))
  const file = NodePath.join(dir, "app.db")
  const runtime = ManagedRuntime.make(
    Core.layerFile(file).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  await runtime.runPromise(
    Effect.gen(function* () {
      const dispatcher = yield* Dispatcher
      yield* dispatcher.dispatch(register("u1", "bench@example.com"), { metadata: testMetadata() })
      for (let k = 0; k < CALLERS; k++) {
        yield* dispatcher.dispatch(addKey(`k${k}`, "u1", { max: 100 }), { metadata: testMetadata() })
      }
    })
  )
  return { dir, file, runtime }
}

/** Ours: `n` commands from `callers` concurrent fibers, caller c on key c; commands per second. */
export const ours = async (n: number, callers: number) => {
  const { dir, runtime } = await prepared()
  try {
    const perCaller = Math.floor(n / callers)
    const ms = await runtime.runPromise(
      Effect.gen(function* () {
        const dispatcher = yield* Dispatcher
        const started = performance.now()
        yield* Effect.forEach(
          Array.from({ length: callers }, (_, c) => c),
          (c) =>
            Effect.gen(function* () {
              for (let j = 0; j < perCaller; j++) {
                const i = j * callers + c
                yield* dispatcher.dispatch(
                  new UsageCommands.RecordUsage({
                    keyId: ApiKeyId.make(`k${c}`),
                    date: UtcDate.make(dayOf(i)),
                    model: modelOf(i),
                    mode: "increment",
                    figures,
                    at: DateTime.unsafeNow()
                  }),
                  { metadata: testMetadata() }
                )
              }
            }),
          { concurrency: callers, discard: true }
        )
        return performance.now() - started
      })
    )
    return ((perCaller * callers) / ms) * 1000
  } finally {
    await runtime.dispose()
    NodeFs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The floor: the statements the command path runs for one RecordUsage, prepared once, `perTransaction`
 * commands per commit. The decision reads no stream: the handler's state cache is current (SQLite's
 * `data_version`, one look per decision, says no other connection committed), as it is for every command
 * after a key's first. Then the lock, both claims, the event's insert, the api_keys and usage_stats
 * writes, the checkpoints (each command of a transaction of several in a savepoint of its own, as the
 * group commit runs them); after the commit the budgets lookup and the spike decision's `data_version` look.
 */
export const raw = async (n: number, perTransaction: number) => {
  const { dir, file, runtime } = await prepared()
  await runtime.dispose()
  const db: Db = openRaw(file)
  try {
    const q = (s: string) => db.prepare(s)
    const placeholders = PROJECTIONS.map(() => "?").join(",")
    const st = {
      dataVersion: q("PRAGMA data_version"),
      savepoint: q("SAVEPOINT orw_job"),
      release: q("RELEASE orw_job"),
      lock: q(`UPDATE "projection_checkpoints" SET "name" = "name" WHERE "name" IN (${placeholders})`),
      claim: q("UPDATE streams SET version = ? WHERE stream_id = ? AND version = ? RETURNING version"),
      insert:
        q(`INSERT INTO events ("stream_id","stream_version","type","schema_version","data","metadata","recorded_at")
        VALUES (?,?,?,?,?,?,?) RETURNING position`),
      lastUsed: q(`UPDATE "api_keys" SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`),
      usage: q(`INSERT INTO "usage_stats" ("api_key_id","user_id","date","model","requests_count","tokens_input",
        "tokens_output","cost_micros","byok_cost_micros","updated_at") VALUES (?,?,?,?,?,?,?,?,?,?)
        ON CONFLICT (api_key_id, date, model) DO UPDATE SET requests_count = excluded.requests_count,
        tokens_input = excluded.tokens_input, tokens_output = excluded.tokens_output, cost_micros = excluded.cost_micros,
        byok_cost_micros = excluded.byok_cost_micros, updated_at = excluded.updated_at`),
      checkpoint: q(`UPDATE projection_checkpoints SET position = ?, updated_at = ? WHERE "name" IN (${placeholders})`),
      budgets: q(`SELECT id FROM budgets WHERE user_id = ? AND (scope = 'account' OR key_id = ?) ORDER BY id`),
      begin: q("BEGIN"),
      commit: q("COMMIT")
    }
    const keyVersion = new Map<string, number>()
    const usageVersion = new Map<string, number>()
    for (const r of db.prepare("SELECT stream_id, version FROM streams").all()) {
      const id = String(r.stream_id)
      if (id.startsWith("key-")) keyVersion.set(id, Number(r.version))
    }
    const totals = new Map<string, { requests: number; tokensInput: number; tokensOutput: number; cost: number }>()
    const metadata = JSON.stringify(testMetadata())
    const command = (i: number, k: string) => {
      const keyStream = `key-${k}`
      const usageStream = `usage-${k}`
      const kv = keyVersion.get(keyStream) ?? 0
      const uv = usageVersion.get(usageStream) ?? 0
      st.dataVersion.get()
      const date = dayOf(i)
      const model = modelOf(i)
      const slot = `${k}|${date}|${model}`
      const t = totals.get(slot) ?? { requests: 0, tokensInput: 0, tokensOutput: 0, cost: 0 }
      const next = {
        requests: t.requests + figures.requests,
        tokensInput: t.tokensInput + figures.tokensInput,
        tokensOutput: t.tokensOutput + figures.tokensOutput,
        cost: t.cost + figures.cost
      }
      totals.set(slot, next)
      const at = new Date().toISOString()
      return (lock: boolean, savepoint: boolean) => {
        if (lock) st.lock.run(...PROJECTIONS)
        if (savepoint) st.savepoint.run()
        st.claim.all(kv, keyStream, kv)
        if (uv === 0) {
          db.prepare("INSERT INTO streams (stream_id, version) VALUES (?, ?)").run(usageStream, 1)
        } else st.claim.all(uv + 1, usageStream, uv)
        const data = JSON.stringify({ keyId: k, userId: "u1", date, model, totals: { ...next, byokCost: 0 }, at })
        const position = st.insert.get(usageStream, uv + 1, "UsageRecorded", 1, data, metadata, at)?.position
        usageVersion.set(usageStream, uv + 1)
        st.lastUsed.run(at, k, at)
        st.usage.run(k, "u1", date, model, next.requests, next.tokensInput, next.tokensOutput, next.cost, 0, at)
        if (savepoint) st.release.run()
        return position
      }
    }
    const after = (k: string) => {
      st.budgets.all("u1", k)
      st.dataVersion.get()
    }
    const started = performance.now()
    for (let i = 0; i < n; i += perTransaction) {
      const writes = []
      for (let j = i; j < Math.min(n, i + perTransaction); j++) writes.push(command(j, `k${j % CALLERS}`))
      st.begin.run()
      let last = 0
      for (const [j, write] of writes.entries()) last = Number(write(j === 0, writes.length > 1))
      st.checkpoint.run(last, new Date().toISOString(), ...PROJECTIONS)
      st.commit.run()
      for (let j = i; j < Math.min(n, i + perTransaction); j++) after(`k${j % CALLERS}`)
    }
    return (n / (performance.now() - started)) * 1000
  } finally {
    db.close()
    NodeFs.rmSync(dir, { recursive: true, force: true })
  }
}

const run = async (): Promise<ReadonlyArray<Row>> => {
  const seq: Array<{ ours: number; raw: number }> = []
  const conc: Array<{ ours: number; raw: number }> = []
  for (let r = 0; r < ROUNDS; r++) {
    seq.push({ raw: await raw(SEQUENTIAL, 1), ours: await ours(SEQUENTIAL, 1) })
    conc.push({ raw: await raw(CONCURRENT, CALLERS), ours: await ours(CONCURRENT, CALLERS) })
    console.log(
      `round ${r + 1}: sequential ${seq[r]?.ours.toFixed(0)}/s vs raw ${seq[r]?.raw.toFixed(0)}/s; ` +
        `16 callers ${conc[r]?.ours.toFixed(0)}/s vs raw ${conc[r]?.raw.toFixed(0)}/s`
    )
  }
  const seqOurs = median(seq.map((s) => s.ours))
  const concOurs = median(conc.map((s) => s.ours))
  const times = concOurs / seqOurs
  // What group commit gains at best on this disk: the floor's own 16-per-transaction over 1-per-transaction.
  const rawTimes = median(conc.map((s) => s.raw)) / median(seq.map((s) => s.raw))
  return [
    higher({
      name: "append.sequential",
      value: seqOurs,
      unit: "commands/s",
      reference: "raw better-sqlite3, same statements, 1 command per transaction, WAL + synchronous=FULL",
      reference_value: median(seq.map((s) => s.raw)),
      target: ">= 0.5",
      atLeast: 0.5,
      note: `median of ${ROUNDS} rounds of ${SEQUENTIAL} RecordUsage`
    }),
    {
      ...higher({
        name: "append.concurrent16",
        value: concOurs,
        unit: "commands/s",
        reference: "raw better-sqlite3, same statements, 16 commands per transaction",
        reference_value: median(conc.map((s) => s.raw)),
        target: ">= 0.3 and >= 4x sequential",
        atLeast: 0.3,
        note:
          `${times.toFixed(2)}x sequential (the raw floor: ${rawTimes.toFixed(2)}x); ` +
          `median of ${ROUNDS} rounds of ${CONCURRENT} RecordUsage, 16 callers`
      }),
      ...(times < 4 ? { met: false } : {})
    }
  ]
}

export const benchmarks: ReadonlyArray<Benchmark> = [{ names: ["append.sequential", "append.concurrent16"], run }]
