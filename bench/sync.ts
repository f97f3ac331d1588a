/**
 * `sync.1000keys` (issue 14): one server-side sync pass (the background fibers of SyncSupervisor) of one
 * user's 1,000 inference keys plus their management key, against the simulator (a real HTTP server on
 * loopback) answering every call after 50 ms, at the default concurrency (SYNC_CONCURRENCY = 4).
 * The simulator runs in a process of its own (bench/lib/simulator-process.ts): in production the sync does
 * not share its event loop with OpenRouter. Reference: the bound of that pass, upstream calls × 50 ms / concurrency (each key's calls are sequential,
 * so nothing can beat it). Also: calls per key at 100 and at 1,000 keys (linear sync: constant), and
 * `orw sync` of 1,000 keys (a child process, the CLI's own start included) against its bound.
 *
 * OpenRouter's 64 analytics queries a minute are lifted here (simulator and sync alike): with them a
 * first pass of 1,000 keys needs 2,000 queries, 31 minutes whatever the code does.
 */
import { spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeInspector from "node:inspector"
import { createRequire } from "node:module"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { ApiKeyCommands, ApiKeyId, maskKey, UserId } from "@orw/domain"
import { originOf } from "@orw/server/App/Origin"
import { AppConfig } from "@orw/server/Config"
import * as Core from "@orw/server/Core"
import { KeyVault, keyHash } from "@orw/server/Crypto/KeyVault"
import { Dispatcher } from "@orw/server/Dispatcher"
import { KeySync } from "@orw/server/OpenRouter/KeySync"
import { generateKey } from "@orw/server/OpenRouter/Simulator"
import { SyncSettings } from "@orw/server/OpenRouter/SyncSettings"
import { SyncSupervisor } from "@orw/server/OpenRouter/SyncSupervisor"
import * as Sync from "@orw/server/Sync"
import { DateTime, Duration, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { register, testMetadata } from "../packages/server/test/support/Fixtures.js"
import { benchDir, higher, type Row } from "./lib/results.js"
import { startSimulatorProcess } from "./lib/simulator-process.js"

const LATENCY_MS = 50
/** The default of SYNC_CONCURRENCY (SyncSettings). */
const CONCURRENCY = 4
const MASTER = "5".repeat(64)
/** No pass may take longer than this (the bound of 1,000 keys is about 50 s; a loaded machine takes minutes). */
const PASS_TIMEOUT_MS = 600_000

const settings = {
  interval: Duration.minutes(60),
  maxConcurrent: CONCURRENCY,
  retries: 3,
  retryBase: Duration.millis(50),
  validationInterval: Duration.hours(24),
  reconcileInterval: Duration.minutes(1),
  analyticsPerMinute: 1_000_000
}

/** BENCH_PROFILE=DIR: a CPU profile of each pass alone (node:inspector), written to DIR. */
const profiler = (() => {
  const dir = process.env.BENCH_PROFILE
  const session = dir === undefined ? undefined : new NodeInspector.Session()
  const post = (method: string) =>
    Effect.async<unknown>((resume) => {
      const done = (error: Error | null, result?: unknown) => resume(error ? Effect.die(error) : Effect.succeed(result))
      ;(session?.post as ((method: string, callback: typeof done) => void) | undefined)?.call(session, method, done)
    })
  return {
    start: Effect.suspend(() => {
      if (session === undefined) return Effect.void
      session.connect()
      return Effect.zipRight(post("Profiler.enable"), post("Profiler.start"))
    }),
    stop: (name: string) =>
      Effect.suspend(() => {
        if (session === undefined || dir === undefined) return Effect.void
        return Effect.map(post("Profiler.stop"), (result) => {
          NodeFs.writeFileSync(
            NodePath.join(dir, `${name}.cpuprofile`),
            JSON.stringify((result as { profile: unknown }).profile)
          )
          session.disconnect()
        })
      })
  }
})()

const tempFile = () => NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-bench-sync-")), "app.db")

/** A temp database file for the scope's lifetime (its folder removed after). */
const scopedFile = Effect.acquireRelease(Effect.sync(tempFile), (file) =>
  Effect.sync(() => NodeFs.rmSync(NodePath.dirname(file), { recursive: true, force: true }))
)

const baseLayer = (url: string, file: string) =>
  Sync.layer.pipe(
    Layer.provideMerge(Core.layerFile(file)),
    Layer.provideMerge(SyncSettings.Test(settings)),
    Layer.provideMerge(
      AppConfig.layerTest({
        openRouterApiUrl: url,
        openRouterTimeout: Duration.seconds(10),
        encryptionKey: Redacted.make(MASTER)
      })
    )
  )

/** One user with `keys` stored (sealed, as the API stores them). */
const seed = (keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const vault = yield* KeyVault
    const dispatcher = yield* Dispatcher
    yield* dispatcher.dispatch(register("u1", "bench@example.com"), { metadata: testMetadata() })
    for (const [i, plaintext] of keys.entries()) {
      const keyId = `k${String(i).padStart(5, "0")}`
      const secret = Redacted.make(plaintext)
      const { ciphertext, vaultRow } = yield* vault.seal(keyId, "u1", secret)
      yield* dispatcher.dispatch(
        new ApiKeyCommands.AddKey({
          keyId: ApiKeyId.make(keyId),
          userId: UserId.make("u1"),
          name: keyId,
          key: secret,
          label: maskKey(plaintext),
          keyHash: keyHash(secret),
          ciphertext,
          maxKeysPerUser: keys.length,
          at: yield* DateTime.now
        }),
        { metadata: testMetadata(), inTransaction: vault.storeInTransaction(vaultRow) }
      )
    }
  })

/** Keys synced at or after `since` (ISO). */
const syncedSince = (since: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ n: number }>`SELECT COUNT(*) AS n FROM key_sync WHERE last_synced_at >= ${since}`.pipe(
      Effect.map((rows) => Number(rows[0]?.n ?? 0)),
      Effect.orDie
    )
  )

/** A simulator account in its own process: a management key (first) and `n` inference keys with usage. */
const account = (n: number, management: boolean) => {
  const keys = Array.from({ length: n + (management ? 1 : 0) }, () => generateKey())
  return Effect.map(
    Effect.acquireRelease(
      Effect.promise(() =>
        startSimulatorProcess({ keys, management, latencyMs: LATENCY_MS, analyticsPerMinute: 1_000_000 })
      ),
      (sim) => Effect.promise(() => sim.close())
    ),
    (sim) => ({ sim, keys })
  )
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

/**
 * The floor measured on this machine now: `calls` sequential `GET /key` per worker, CONCURRENCY workers of
 * bare fetch against the same simulator (each answer after LATENCY_MS). On an idle machine it equals
 * calls × latency / concurrency; under load the processes' wake-ups stretch every call.
 */
const rawFloor = async (url: string, key: string, calls: number) => {
  let left = calls
  const started = performance.now()
  const worker = async () => {
    while (left > 0 && performance.now() - started < PASS_TIMEOUT_MS) {
      left--
      const res = await fetch(`${url}/key`, { headers: { authorization: `Bearer ${key}` } })
      await res.text()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return (performance.now() - started) / 1000
}

/**
 * What `commits` commits cost on this disk now (better-sqlite3, WAL, synchronous = FULL, one row each, a
 * temp file): better-sqlite3 blocks the event loop for each, so a pass can never take less than this plus
 * its CPU time. The first pass of a key commits twice (its snapshot; its activity with its key_sync row).
 */
const commitFloor = (commits: number) => {
  const require = createRequire(NodePath.join(NodePath.dirname(benchDir), "packages", "server", "package.json"))
  const Database = require("better-sqlite3") as new (
    file: string
  ) => {
    pragma: (p: string) => unknown
    exec: (sql: string) => void
    prepare: (sql: string) => { run: (...args: ReadonlyArray<unknown>) => unknown }
    close: () => void
  }
  const file = tempFile()
  const db = new Database(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.exec("CREATE TABLE t (x INTEGER)")
  const insert = db.prepare("INSERT INTO t VALUES (?)")
  const started = performance.now()
  for (let i = 0; i < commits; i++) insert.run(i)
  const seconds = (performance.now() - started) / 1000
  db.close()
  NodeFs.rmSync(NodePath.dirname(file), { recursive: true, force: true })
  return seconds
}

interface Pass {
  readonly keys: number
  readonly seconds: number
  /** CPU time of this process (sync and simulator) during the pass. */
  readonly cpuSeconds: number
  readonly calls: number
  /** The same number of calls by a bare fetch loop, CONCURRENCY workers, against the same simulator. */
  readonly floorSeconds: number
  /** 2 commits per key at this moment, raw (see commitFloor). */
  readonly commitSeconds: number
  readonly byEndpoint: Record<string, number>
}

/** One pass of the server's fibers over a fresh database: from their start until every key has synced. */
export const serverPass = (n: number) =>
  Effect.gen(function* () {
    const { sim, keys } = yield* account(n, true)
    const running = sim
    const file = yield* scopedFile
    const scope = yield* Effect.scope
    const context = yield* Layer.buildWithScope(baseLayer(running.url, file), scope)
    return yield* Effect.gen(function* () {
      yield* seed(keys)
      // The management key was synced when it was added (its GET /key tells it is one): the pass reads
      // every other key's activity through it.
      yield* Effect.flatMap(KeySync, (s) => s.syncKey(ApiKeyId.make("k00000"), originOf("sync"), null))
      const before = yield* Effect.promise(() => sim.counts())
      const since = DateTime.formatIso(yield* DateTime.now)
      const started = performance.now()
      const cpu = process.cpuUsage()
      yield* profiler.start
      yield* Layer.buildWithScope(SyncSupervisor.Default, scope)
      while ((yield* syncedSince(since)) < keys.length) {
        if (performance.now() - started > PASS_TIMEOUT_MS)
          return yield* Effect.dieMessage(`pass of ${n} keys timed out`)
        yield* Effect.sleep(Duration.millis(100))
      }
      const seconds = (performance.now() - started) / 1000
      const used = process.cpuUsage(cpu)
      const cpuSeconds = (used.user + used.system) / 1e6
      yield* profiler.stop(`sync-${n}`)
      const after = yield* Effect.promise(() => sim.counts())
      const byEndpoint: Record<string, number> = {}
      for (const [endpoint, count] of Object.entries(after)) byEndpoint[endpoint] = count - (before[endpoint] ?? 0)
      const calls = total(byEndpoint)
      const floorSeconds = yield* Effect.promise(() => rawFloor(sim.url, keys[1] ?? keys[0] ?? "", calls))
      const commitSeconds = commitFloor(2 * n)
      return { keys: n, seconds, cpuSeconds, calls, byEndpoint, floorSeconds, commitSeconds } satisfies Pass
    }).pipe(Effect.provide(context))
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error))

const ORW = NodePath.join(NodePath.dirname(benchDir), "scripts", "orw.mjs")

/** `orw sync` of `n` keys without a management key (one `GET /key` each) in a child process: seconds, calls. */
export const cliPass = (n: number) =>
  Effect.gen(function* () {
    const { sim, keys } = yield* account(n, false)
    const running = sim
    const file = yield* scopedFile
    yield* seed(keys).pipe(Effect.provide(Layer.fresh(baseLayer(running.url, file))))
    const before = total(yield* Effect.promise(() => sim.counts()))
    const started = performance.now()
    const code = yield* Effect.async<number | null>((resume) => {
      const { DATABASE_URL: _url, DATA_DIR: _dir, SYNC_CONCURRENCY: _c, ...inherited } = process.env
      const child = spawn(
        process.execPath,
        [...(process.env.BENCH_CLI_NODE_ARGS ?? "").split(" ").filter(Boolean), ORW, "sync"],
        {
          env: {
            ...inherited,
            NO_COLOR: "1",
            DATABASE_URL: file,
            DATA_DIR: NodePath.dirname(file),
            SECRET_KEY: "s".repeat(40),
            ENCRYPTION_KEY: MASTER,
            OPENROUTER_API_URL: running.url,
            LOG_LEVEL: "error"
          },
          stdio: ["ignore", "ignore", "inherit"]
        }
      )
      const timer = setTimeout(() => child.kill("SIGKILL"), PASS_TIMEOUT_MS)
      child.on("close", (code) => {
        clearTimeout(timer)
        resume(Effect.succeed(code))
      })
    })
    if (code !== 0) return yield* Effect.dieMessage(`orw sync exited with ${code}`)
    const seconds = (performance.now() - started) / 1000
    return { seconds, calls: total(yield* Effect.promise(() => sim.counts())) - before }
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error))

const boundSeconds = (calls: number) => (calls * LATENCY_MS) / 1000 / CONCURRENCY

const describePass = (p: Pass) =>
  `${p.keys} keys: ${p.seconds.toFixed(1)} s (CPU ${p.cpuSeconds.toFixed(1)} s; bare fetch floor ${p.floorSeconds.toFixed(1)} s; ${2 * p.keys} raw commits ${p.commitSeconds.toFixed(1)} s), ${p.calls} calls (${(p.calls / (p.keys + 1)).toFixed(2)}/key: ${Object.entries(
    p.byEndpoint
  )
    .sort()
    .map(([e, c]) => `${e} ${c}`)
    .join(", ")})`

const run = async (): Promise<ReadonlyArray<Row>> => {
  const keys = Number(process.env.BENCH_SYNC_KEYS ?? 1000)
  const small = await Effect.runPromise(serverPass(Math.max(1, Math.round(keys / 10))))
  console.log(`  server pass, ${describePass(small)}`)
  const large = await Effect.runPromise(serverPass(keys))
  console.log(`  server pass, ${describePass(large)}`)
  const cli = await Effect.runPromise(cliPass(keys))
  console.log(`  orw sync, ${keys} keys, no management key: ${cli.seconds.toFixed(1)} s, ${cli.calls} calls`)
  const bound = boundSeconds(large.calls)
  const perKey = (p: Pass) => p.calls / (p.keys + 1)
  return [
    higher({
      name: `sync.${keys}keys`,
      value: large.keys / large.seconds,
      unit: "keys/s",
      reference: `calls × ${LATENCY_MS} ms / ${CONCURRENCY}: ${large.calls} calls in ${bound.toFixed(1)} s`,
      reference_value: large.keys / bound,
      target: ">= 0.8",
      atLeast: 0.8,
      note:
        `server pass ${large.seconds.toFixed(1)} s, CPU ${large.cpuSeconds.toFixed(1)} s (${((large.cpuSeconds / large.keys) * 1000).toFixed(0)} ms/key); the same ${large.calls} calls by a bare fetch loop (4 workers, same simulator, same moment) ${large.floorSeconds.toFixed(1)} s: ratio ${(large.floorSeconds / large.seconds).toFixed(2)} vs that floor; ${2 * large.keys} raw commits (2 per key, FULL) ${large.commitSeconds.toFixed(1)} s; calls/key ${perKey(small).toFixed(2)} at ${small.keys} keys, ` +
        `${perKey(large).toFixed(2)} at ${large.keys}; orw sync (${keys} keys, no management key) ` +
        `${cli.seconds.toFixed(1)} s vs bound ${boundSeconds(cli.calls).toFixed(1)} s; analytics 64/min lifted`
    })
  ]
}

export const benchmarks = [{ names: ["sync.1000keys"], run }]
