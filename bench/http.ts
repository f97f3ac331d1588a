/**
 * The HTTP read path from outside (issue 14): `http.stats.year`, `http.usage.year` and `http.healthz`.
 * A database with a year of usage × 10 keys × 30 models (109,500 rows), served by the production server
 * (the esbuild bundle, as `npm start` runs it) and by a bare node:http + better-sqlite3 server answering
 * the same JSON with the same SQL (bench/lib/bare-server.mjs); autocannon loads each from its own
 * process (bench/lib/load.mjs), loopback only, every run bounded in time and count. Rounds alternate
 * the two servers; figures are medians.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { ApiKeyCommands, ApiKeyId, ApiTokenCommands, ApiTokenId, UserId } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Logger, LogLevel } from "effect"
import { hashApiToken } from "../packages/server/src/Auth/ApiTokens.js"
import { addKey, register, testMetadata } from "../packages/server/test/support/Fixtures.js"
import { benchDir, higher, lowerIsBetter, type Row } from "./lib/results.js"
import type { Benchmark } from "./run.js"

const ROUNDS = Number(process.env.ORW_BENCH_ROUNDS ?? 3)
const SECONDS = Number(process.env.ORW_BENCH_SECONDS ?? 5)
const CONNECTIONS = 10
const KEYS = 10
const MODELS = 30
const DAYS = 365
export const TOKEN = `or_api_${"b".repeat(64)}`
const root = NodePath.dirname(benchDir)

const dayOf = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10)
const first = dayOf(DAYS)
const last = dayOf(1)

/** A year of usage for one user: 10 keys (switched off: no sync runs) × 30 models a day, an `unattributed` row on one (key, date) in ten. */
export const makeDatabase = async (file: string) => {
  const program = Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const at = yield* DateTime.now
    const meta = { metadata: testMetadata() }
    yield* dispatcher.dispatch(register("u1", "bench@example.com"), meta)
    for (let k = 0; k < KEYS; k++) {
      yield* dispatcher.dispatch(addKey(`k${k}`, "u1", { seed: k + 1, name: `key ${k}` }), meta)
      const keyId = ApiKeyId.make(`k${k}`)
      yield* dispatcher.dispatch(
        new ApiKeyCommands.EditKey({ keyId, userId: UserId.make("u1"), isActive: false, at }),
        meta
      )
    }
    yield* dispatcher.dispatch(
      new ApiTokenCommands.IssueToken({
        tokenId: ApiTokenId.make("t1"),
        userId: UserId.make("u1"),
        name: "bench",
        tokenHash: hashApiToken(TOKEN),
        at
      }),
      meta
    )
    // The read table directly (as a rebuild would write it): 109,500 RecordUsage commands would take minutes.
    const sql = yield* SqlClient.SqlClient
    const rows: Array<Record<string, string | number>> = []
    for (let d = 1; d <= DAYS; d++)
      for (let k = 0; k < KEYS; k++) {
        const models = Array.from({ length: MODELS }, (_, m) => `vendor-${m % 7}/model-${m}`)
        if ((d + k) % 10 === 0) models.push("unattributed")
        for (const [m, model] of models.entries())
          rows.push({
            api_key_id: `k${k}`,
            user_id: "u1",
            date: dayOf(d),
            model,
            requests_count: 1 + ((d * 7 + k * 3 + m) % 50),
            tokens_input: 1000 + ((d * 13 + m) % 5000),
            tokens_output: 500 + ((d * 11 + k) % 3000),
            cost_micros: 1 + ((d * 7919 + k * 104_729 + m * 1299) % 2_000_000),
            byok_cost_micros: 0,
            updated_at: "2026-01-01T00:00:00.000Z"
          })
      }
    yield* sql.withTransaction(
      Effect.forEach(
        Array.from({ length: Math.ceil(rows.length / 500) }, (_, i) => rows.slice(i * 500, i * 500 + 500)),
        (batch) => sql`INSERT INTO usage_stats ${sql.insert(batch)}`,
        { discard: true }
      )
    )
    return rows.length
  })
  return Effect.runPromise(
    program.pipe(Effect.provide(Core.layerFile(file)), Logger.withMinimumLogLevel(LogLevel.Warning))
  )
}

const started: Array<ChildProcess> = []
const stopAll = () => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGTERM")
}
process.once("exit", stopAll)

const until = async (url: string, seconds: number) => {
  const deadline = Date.now() + seconds * 1000
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} not ready within ${seconds} s`)
}

const freePort = async () => {
  const NodeNet = await import("node:net")
  return new Promise<number>((resolve) => {
    const probe = NodeNet.createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })
}

/** The production bundle on `file`; resolves to its base URL once /readyz says 200. */
const startProduction = async (file: string, dir: string, extraArgs: ReadonlyArray<string> = []) => {
  const { ensureBundle } = (await import(NodePath.join(root, "scripts/build.mjs"))) as {
    ensureBundle: (name: string) => Promise<string>
  }
  const bundle = process.env.ORW_BENCH_BUNDLE ?? (await ensureBundle("server"))
  const port = await freePort()
  const child = spawn(process.execPath, [...extraArgs, bundle], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: file,
      DATA_DIR: dir,
      HOST: "127.0.0.1",
      PORT: String(port),
      SECRET_KEY: "s".repeat(40),
      ENCRYPTION_KEY: "e".repeat(40),
      RATE_LIMIT_REQUESTS: "1000000000",
      SYNC_INTERVAL_MINUTES: "100000",
      LOG_LEVEL: "INFO"
    }
  })
  started.push(child)
  const url = `http://127.0.0.1:${port}`
  await until(`${url}/readyz`, 60)
  return { url, child }
}

const startBare = async (file: string) => {
  const child = spawn(process.execPath, [NodePath.join(benchDir, "lib/bare-server.mjs"), file], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  started.push(child)
  const port = await new Promise<string>((resolve) => child.stdout?.once("data", (d) => resolve(String(d).trim())))
  const url = `http://127.0.0.1:${port}`
  await until(`${url}/healthz`, 10)
  return { url, child }
}

interface Load {
  readonly rps: number
  readonly p99: number
  readonly non2xx: number
  readonly errors: number
}

/** One autocannon run from its own process, bounded by time (SECONDS) and count. */
const load = (url: string, paths: ReadonlyArray<string>, options: { overallRate?: number } = {}): Load => {
  const file = NodePath.join(NodeOs.tmpdir(), `orw-load-${process.pid}.json`)
  NodeFs.writeFileSync(
    file,
    JSON.stringify({
      url,
      paths,
      headers: { authorization: `Bearer ${TOKEN}` },
      connections: CONNECTIONS,
      durationSeconds: SECONDS,
      maxRequests: options.overallRate === undefined ? 300_000 : options.overallRate * SECONDS,
      overallRate: options.overallRate
    })
  )
  const run = spawnSync(process.execPath, [NodePath.join(benchDir, "lib/load.mjs"), `@${file}`], {
    encoding: "utf8",
    timeout: (SECONDS + 30) * 1000
  })
  NodeFs.rmSync(file, { force: true })
  if (run.status !== 0) throw new Error(`load failed (${run.status ?? run.signal}): ${run.stderr}`)
  const result = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as Load
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`load saw ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : ((s[Math.floor((s.length - 1) / 2)] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2
}

/** The same body from both servers (or the benchmark compares different work). */
const sameAnswer = async (ours: string, bare: string, path: string) => {
  // A fresh connection each (no keep-alive socket the server may have closed meanwhile).
  const get = (base: string) =>
    new Promise<string>((resolve, reject) => {
      const request = NodeHttp.get(
        `${base}${path}`,
        { agent: false, headers: { authorization: `Bearer ${TOKEN}` }, timeout: 60_000 },
        (response) => {
          let text = ""
          response.setEncoding("utf8")
          response.on("data", (c: string) => {
            text += c
          })
          response.on("end", () => resolve(text))
        }
      )
      request.on("timeout", () => request.destroy(new Error("timeout")))
      request.on("error", (e) =>
        reject(
          new Error(
            `GET ${base}${path}: ${e.message}; servers: ${started.map((c) => c.exitCode ?? "running").join(", ")}`
          )
        )
      )
    })
  const [a, b] = await Promise.all([get(ours), get(bare)])
  if (a !== b) throw new Error(`different answers for ${path}:\n ours ${a.slice(0, 300)}\n bare ${b.slice(0, 300)}`)
}

/**
 * Paths that each ask a different range: 4,236 of them (12 end dates × 353 start dates), more than the
 * server's answer cache holds (512), each run starting elsewhere in the list, so none is answered from the
 * cache; and the one a dashboard polls (the year, cached on the log head after its first answer).
 */
const ranges = Array.from({ length: 12 * (DAYS - 12) }, (_, i) => ({
  start: dayOf(DAYS - (i % (DAYS - 12))),
  end: dayOf(1 + Math.floor(i / (DAYS - 12)))
}))
const endpoints = {
  "http.stats.year": {
    rotating: ranges.map((r) => `/api/v1/stats?start_date=${r.start}&end_date=${r.end}`),
    fixed: `/api/v1/stats?start_date=${first}&end_date=${last}`
  },
  "http.usage.year": {
    rotating: ranges.map((r) => `/api/v1/usage?start_date=${r.start}&end_date=${r.end}&page=1&limit=100`),
    fixed: `/api/v1/usage?start_date=${first}&end_date=${last}&page=1&limit=100`
  }
} as const

/** The rotating paths of round `r`, from a different place in the list each time. */
const rotated = (paths: ReadonlyArray<string>, r: number) => [...paths.slice(r * 1100), ...paths.slice(0, r * 1100)]

const run = async (): Promise<ReadonlyArray<Row>> => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-bench-http-"))
  try {
    const file = NodePath.join(dir, "app.db")
    const rows = await makeDatabase(file)
    console.log(`database: ${rows} usage rows (${KEYS} keys × ${MODELS} models × ${DAYS} days + unattributed)`)
    const ours = await startProduction(
      file,
      dir,
      process.env.ORW_BENCH_PROFILE === "1" ? ["--cpu-prof", `--cpu-prof-dir=${dir}/prof`] : []
    )
    const bare = await startBare(file)
    const out: Array<Row> = []
    for (const [name, e] of Object.entries(endpoints)) {
      for (const p of [e.fixed, e.rotating[0] ?? "", e.rotating.at(-1) ?? ""]) await sameAnswer(ours.url, bare.url, p)
      const sat = { ours: [] as Array<number>, bare: [] as Array<number>, cached: [] as Array<number> }
      const p99 = { ours: [] as Array<number>, bare: [] as Array<number>, oursUncached: [] as Array<number> }
      for (let r = 0; r < ROUNDS; r++) {
        sat.ours.push(load(ours.url, rotated(e.rotating, r)).rps)
        sat.bare.push(load(bare.url, rotated(e.rotating, r)).rps)
        sat.cached.push(load(ours.url, [e.fixed]).rps)
        p99.ours.push(load(ours.url, [e.fixed], { overallRate: 200 }).p99)
        p99.bare.push(load(bare.url, [e.fixed], { overallRate: 200 }).p99)
        console.log(
          `  ${name} round ${r + 1}: uncached ${sat.ours.at(-1)} vs bare ${sat.bare.at(-1)} req/s; cached ${sat.cached.at(-1)} req/s; p99 @200 ${p99.ours.at(-1)} ms vs bare ${p99.bare.at(-1)} ms`
        )
      }
      out.push(
        higher({
          name,
          value: median(sat.ours),
          unit: "req/s",
          reference:
            "bare node:http + better-sqlite3, same SQL and JSON, every request a different range (no cache on either)",
          reference_value: median(sat.bare),
          target: ">= 0.5",
          atLeast: 0.5,
          note: `saturation, ${CONNECTIONS} connections; the same year asked again (the answer cache on the log head): ${median(sat.cached).toFixed(0)} req/s`
        }),
        lowerIsBetter({
          name: `${name}.p99`,
          value: median(p99.ours),
          unit: "ms",
          reference: "bare server's p99 at 200 req/s (uncached SQL)",
          reference_value: median(p99.bare),
          atMost: 25,
          note: "p99 at a fixed 200 req/s, the same full-year request repeated (after the first, the answer cache answers it before the router)"
        })
      )
    }
    const health = { ours: [] as Array<number>, bare: [] as Array<number> }
    for (let r = 0; r < ROUNDS; r++) {
      health.ours.push(load(ours.url, ["/healthz"]).rps)
      health.bare.push(load(bare.url, ["/healthz"]).rps)
      console.log(`  http.healthz round ${r + 1}: ${health.ours.at(-1)} vs bare ${health.bare.at(-1)} req/s`)
    }
    out.push(
      higher({
        name: "http.healthz",
        value: median(health.ours),
        unit: "req/s",
        reference: 'bare node:http answering {"status":"ok"}',
        reference_value: median(health.bare),
        target: ">= 0.25",
        atLeast: 0.25,
        note: `saturation, ${CONNECTIONS} connections`
      })
    )
    return out
  } finally {
    stopAll()
    await new Promise((r) => setTimeout(r, 500))
    if (process.env.ORW_BENCH_PROFILE !== "1") NodeFs.rmSync(dir, { recursive: true, force: true })
    else console.log(`profiles kept in ${dir}/prof`)
  }
}

export const benchmarks: ReadonlyArray<Benchmark> = [
  { names: ["http.stats.year", "http.stats.year.p99", "http.usage.year", "http.usage.year.p99", "http.healthz"], run }
]
