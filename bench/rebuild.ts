/**
 * `rebuild.1m`: rebuilding every projection from a log of 1,000,000 generated events (1,000 users,
 * 5,000 keys, a year of daily usage over 30 models, token churn) against a raw better-sqlite3 loop that
 * reads the same log and writes the same rows into the same fresh tables (prepared statements, 2,000
 * events per transaction). Each side runs in a child process of its own, so its peak RSS is its own.
 * The log is generated once per run (raw inserts of encoded events) into a temp dir, and copied per round.
 */
import * as ChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Core from "@orw/server/Core"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { TABLES } from "./lib/rebuild-child.js"
import { higher, type Row } from "./lib/results.js"
import { openRaw } from "./lib/sqlite.js"
import type { Benchmark } from "./run.js"

const EVENTS = Number(process.env.BENCH_REBUILD_EVENTS ?? 1_000_000)
const USERS = 1_000
const KEYS = 5_000
const MODELS = 30
const ROUNDS = Number(process.env.BENCH_REBUILD_ROUNDS ?? 3)
const RSS_LIMIT_MB = 256
const childSource = new URL("./lib/rebuild-child.ts", import.meta.url).pathname
/** Beside the server's bundles, so that its native addons resolve from packages/server/node_modules. */
const childBundle = new URL("../packages/server/dist/bench-rebuild-child.mjs", import.meta.url).pathname

/**
 * The child as one esbuild bundle run by plain node, as the server runs in production (scripts/build.mjs):
 * under tsx, loading the TypeScript sources alone takes ~230 MB of RSS, which is not the rebuild's.
 */
const bundleChild = async () => {
  const { EXTERNAL } = await import("../scripts/build.mjs")
  const { build } = await import("esbuild")
  await build({
    entryPoints: [childSource],
    outfile: childBundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: EXTERNAL,
    banner: {
      js: "import { createRequire as __orwRequire } from 'node:module'; const require = __orwRequire(import.meta.url);"
    },
    logLevel: "warning"
  })
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

/** A migrated, empty database, then the generated log inserted raw (the events as the store encodes them). */
export const generate = async (file: string) => {
  const runtime = ManagedRuntime.make(
    Core.layerFile(file).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  await runtime.runPromise(Effect.void)
  await runtime.dispose()
  const db = openRaw(file)
  db.pragma("synchronous = OFF")
  const insert = db.prepare(
    "INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, recorded_at) VALUES (?,?,?,1,?,?,?)"
  )
  const streams = new Map<string, number>()
  const metadata = JSON.stringify({
    actor: null,
    source: "sync",
    correlationId: "bench",
    causationId: null,
    requestId: null
  })
  const start = Date.UTC(2025, 0, 1)
  let count = 0
  const put = (stream: string, type: string, data: Record<string, unknown>, atMs: number) => {
    const version = (streams.get(stream) ?? 0) + 1
    streams.set(stream, version)
    const at = new Date(atMs).toISOString()
    insert.run(stream, version, type, JSON.stringify({ ...data, at }), metadata, at)
    count++
  }
  const begin = db.prepare("BEGIN")
  const commit = db.prepare("COMMIT")
  begin.run()
  for (let u = 0; u < USERS; u++) {
    const userId = `u${u}`
    const email = `user${u}@example.com`
    put(`user-${userId}`, "UserRegistered", { userId, email, passwordHash: `$argon2id$bench${u}` }, start + u)
    put(`email-${email}`, "EmailClaimed", { email, userId }, start + u)
  }
  for (let k = 0; k < KEYS; k++) {
    const keyId = `k${k}`
    const userId = `u${k % USERS}`
    put(
      `key-${keyId}`,
      "KeyAdded",
      {
        keyId,
        userId,
        name: `key ${k}`,
        label: "sk-or-v1-000...001",
        keyHash: `hash-${k}`,
        ciphertext: `sealed-${k}`
      },
      start + USERS + k
    )
    put(`user-${userId}`, "KeyAttached", { userId, keyId, keyHash: `hash-${k}` }, start + USERS + k)
  }
  // Token churn: three tokens per user, two of them revoked later.
  const tokenEvents = USERS * 5
  const usageEvents = EVENTS - count - tokenEvents
  const perKey = Math.ceil(usageEvents / KEYS)
  const totals = new Map<string, number>()
  let usage = 0
  for (let j = 0; j < perKey && usage < usageEvents; j++) {
    const day = Math.floor((j * 365) / perKey)
    const date = new Date(start + day * 86_400_000).toISOString().slice(0, 10)
    if (j % Math.max(1, Math.floor(perKey / 5)) === 0 && j / Math.floor(perKey / 5) < 5) {
      const round = Math.floor(j / Math.max(1, Math.floor(perKey / 5)))
      for (let u = 0; u < USERS; u++) {
        const userId = `u${u}`
        const tokenId = `t${u}-${Math.min(round, 2)}`
        if (round < 3) {
          put(
            `token-${tokenId}`,
            "TokenIssued",
            { tokenId, userId, name: `token ${round}`, tokenHash: `th-${tokenId}` },
            start + day * 86_400_000
          )
        } else {
          const revoked = `t${u}-${round - 3}`
          put(`token-${revoked}`, "TokenRevoked", { tokenId: revoked, userId }, start + day * 86_400_000)
        }
      }
    }
    for (let k = 0; k < KEYS && usage < usageEvents; k++, usage++) {
      const keyId = `k${k}`
      // Token churn within a day: a model is re-synced with bigger totals (an update, not an insert).
      const model = `model-${(k * 7 + (j % 20)) % MODELS}`
      const slot = `${keyId}|${date}|${model}`
      const requests = (totals.get(slot) ?? 0) + 1 + (j % 13)
      totals.set(slot, requests)
      put(
        `usage-${keyId}`,
        "UsageRecorded",
        {
          keyId,
          userId: `u${k % USERS}`,
          date,
          model,
          totals: {
            requests,
            tokensInput: requests * 1000,
            tokensOutput: requests * 300,
            cost: requests * 1234,
            byokCost: 0
          }
        },
        start + day * 86_400_000 + 3_600_000 + k
      )
    }
    if (j % 20 === 19) {
      commit.run()
      begin.run()
    }
  }
  commit.run()
  const upsert = db.prepare(
    "INSERT INTO streams (stream_id, version) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version"
  )
  begin.run()
  for (const [stream, version] of streams) upsert.run(stream, version)
  commit.run()
  db.pragma("wal_checkpoint(TRUNCATE)")
  db.close()
  return count
}

/** Runs bench/lib/rebuild-child.ts in `mode` on `file`; its time and its peak RSS. */
const inChild = (mode: "ours" | "raw", file: string) => {
  const out = ChildProcess.execFileSync(process.execPath, [childBundle, mode, file], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
    stdio: ["ignore", "pipe", "inherit"]
  })
  const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { ms: number; rssMb: number }
  return result
}

/** A row count per table: ours and the floor must write the same rows. */
const counts = (file: string) => {
  const db = openRaw(file)
  const result = TABLES.map((t) => `${t}=${db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get()?.n}`).join(" ")
  db.close()
  return result
}

const run = async (): Promise<ReadonlyArray<Row>> => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-bench-rebuild-"))
  try {
    await bundleChild()
    const log = NodePath.join(dir, "log.db")
    const generatedAt = performance.now()
    const events = await generate(log)
    console.log(`generated ${events} events in ${((performance.now() - generatedAt) / 1000).toFixed(1)} s`)
    const rounds: Array<{ ours: { ms: number; rssMb: number }; raw: { ms: number; rssMb: number } }> = []
    for (let r = 0; r < ROUNDS; r++) {
      const copy = (name: string) => {
        const file = NodePath.join(dir, `${name}.db`)
        NodeFs.copyFileSync(log, file)
        return file
      }
      const rawFile = copy("raw")
      const raw = inChild("raw", rawFile)
      const oursFile = copy("ours")
      const ours = inChild("ours", oursFile)
      if (r === 0) {
        const [a, b] = [counts(rawFile), counts(oursFile)]
        console.log(`rows: raw ${a}\n      ours ${b}`)
        if (a !== b) throw new Error("ours and the floor wrote different rows")
      }
      NodeFs.rmSync(rawFile, { force: true })
      NodeFs.rmSync(oursFile, { force: true })
      rounds.push({ ours, raw })
      console.log(
        `round ${r + 1}: ours ${ours.ms.toFixed(0)} ms (${ours.rssMb.toFixed(0)} MB peak), raw ${raw.ms.toFixed(0)} ms (${raw.rssMb.toFixed(0)} MB)`
      )
    }
    const oursRate = median(rounds.map((r) => (events / r.ours.ms) * 1000))
    const rawRate = median(rounds.map((r) => (events / r.raw.ms) * 1000))
    const rss = Math.max(...rounds.map((r) => r.ours.rssMb))
    const row = higher({
      name: "rebuild.1m",
      value: oursRate,
      unit: "events/s",
      reference: "raw better-sqlite3 loop writing the same rows into the same fresh tables, 2,000 events a transaction",
      reference_value: rawRate,
      target: `>= 0.5, peak RSS <= ${RSS_LIMIT_MB} MB`,
      atLeast: 0.5,
      note: `${events} events, all ${TABLES.length} projections; ${oursRate.toFixed(0)} events/s, peak RSS ${rss.toFixed(0)} MB; median of ${ROUNDS}`
    })
    return [rss > RSS_LIMIT_MB ? { ...row, met: false } : row]
  } finally {
    NodeFs.rmSync(dir, { recursive: true, force: true })
  }
}

export const benchmarks: ReadonlyArray<Benchmark> = [{ names: ["rebuild.1m"], run }]
