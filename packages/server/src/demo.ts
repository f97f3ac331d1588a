/**
 * `pnpm demo`: the server with an in-process OpenRouter simulator, a demo account with
 * several keys (one a management key) and a year of usage over several models, and live
 * traffic so the dashboard keeps moving. The demo database is its own and starts fresh.
 */

import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Console, Effect, Layer, Logger, LogLevel } from "effect"
import { AppConfig } from "./Config.js"
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from "./Demo/Seed.js"
import { demoTraffic } from "./Demo/Traffic.js"
import { appLayer } from "./Http/Server.js"
import { ListenFromConfig, runMain, withSettings } from "./Launch.js"
import { realisticScenario, Simulator } from "./OpenRouter/Simulator.js"
import { RpcRoute } from "./Rpc/Route.js"
import { hold, lockFileOf } from "./ServerLock.js"

const dir = NodePath.resolve(process.env.DEMO_DIR ?? "data/demo")
NodeFs.mkdirSync(dir, { recursive: true })
// Starting afresh deletes the demo database, but never one another demo process has open: the lock file names
// the process holding it, and a live holder stops this start (a stale lock, of a process gone, is taken over).
const lock = NodePath.join(dir, "demo.lock")
const holder = NodeFs.existsSync(lock) ? Number(NodeFs.readFileSync(lock, "utf8").trim()) : Number.NaN
const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
  console.error(`Another demo (process ${holder}) is using ${dir}: stop it first, or set DEMO_DIR to another folder.`)
  process.exit(1)
}
NodeFs.writeFileSync(lock, String(process.pid))
process.on("exit", () => {
  if (NodeFs.existsSync(lock) && NodeFs.readFileSync(lock, "utf8").trim() === String(process.pid)) NodeFs.rmSync(lock)
})
// Nor one any orw server holds, demo or not (a server started with DATABASE_URL at this file): its server.lock
// beside the file is an OS lock, taken and released here, so a stale pid or a reused one cannot fool it.
const databaseFile = NodePath.join(dir, "demo.db")
const heldByServer = await Effect.runPromise(
  Layer.build(hold(lockFileOf(databaseFile))).pipe(
    Effect.scoped,
    Effect.as(false),
    Effect.catchAll(() => Effect.succeed(true))
  )
)
if (heldByServer) {
  console.error(`A running orw server holds ${databaseFile}: stop it first, or set DEMO_DIR to another folder.`)
  process.exit(1)
}
for (const suffix of ["", "-wal", "-shm"]) NodeFs.rmSync(`${databaseFile}${suffix}`, { force: true })
// The demo never touches the real database, whatever .env says.
process.env.DATABASE_URL = databaseFile
process.env.SYNC_INTERVAL_MINUTES ??= "0.5"

// A year of history, as OpenRouter's analytics keep: the first sync imports it (openrouter-api.md, item 5).
const scenario = realisticScenario({ days: 365, seed: 42 })
const simulator = new Simulator({ scenario })

const Demo = Layer.scopedDiscard(
  Effect.gen(function* () {
    const { host, port, openRouterApiUrl } = yield* AppConfig
    yield* seedDemo(scenario)
    yield* Effect.forkScoped(demoTraffic(scenario))
    const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`
    yield* Console.log(
      [
        "",
        `  openrouter-watcher demo is running at ${url}`,
        `  log in as ${DEMO_EMAIL} / ${DEMO_PASSWORD}`,
        `  (OpenRouter is simulated at ${openRouterApiUrl}; usage grows while this runs; Ctrl-C stops)`,
        ""
      ].join("\n")
    )
  })
)

const main = Effect.gen(function* () {
  const running = yield* simulator.serve({ host: "127.0.0.1", port: 0 })
  process.env.OPENROUTER_API_URL = running.url
  const App = Demo.pipe(
    Layer.provideMerge(appLayer({ server: ListenFromConfig, routes: RpcRoute })),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)),
    withSettings
  )
  return yield* Layer.launch(App)
})

runMain(Effect.scoped(main))
