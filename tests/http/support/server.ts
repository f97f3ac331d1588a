import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { HttpServer } from "@effect/platform"
import { Passwords } from "@orw/server/Auth/Passwords"
import { AppConfig, type AppSettings } from "@orw/server/Config"
import { Database } from "@orw/server/DatabaseUrl"
import { appLayer, type ConnectionLimits, listen } from "@orw/server/Http/Server"
import { Simulator, type SimulatorOptions } from "@orw/server/OpenRouter/Simulator"
import { SyncSettings, type SyncSettingsShape } from "@orw/server/OpenRouter/SyncSettings"
import { RpcRoute } from "@orw/server/Rpc/Route"
import { Duration, Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"

/** What the app layer offers to tests (core, vault, auth...), beside the HTTP server. */
type AppServices = Layer.Layer.Success<ReturnType<typeof appLayer<never, never>>>

/**
 * A real server (JSON API, v1 and the web RPC at /rpc) on a loopback port, with OpenRouter simulated, over a
 * real SQLite file in a temp folder, or with ORW_TEST_DB=pg over a fresh database of the test PostgreSQL cluster.
 */
export interface TestServer {
  readonly url: string
  readonly dir: string
  /** The database the server runs on. */
  readonly database: Database
  /** The SQLite file (its path also under PostgreSQL, where no such file is made). */
  readonly databaseFile: string
  /** Every log line the server wrote (logfmt), in order. */
  readonly logs: Array<string>
  readonly sim: Simulator
  /** The simulator's base URL (`http://127.0.0.1:PORT/api/v1`), for calls a key makes itself (completions). */
  readonly simUrl: string
  /** Runs an effect against the server's own services (SqlClient, Dispatcher, KeyVault, Jwt...). */
  readonly run: <A, E>(effect: Effect.Effect<A, E, AppServices>) => Promise<A>
  readonly close: () => Promise<void>
}

const fastSync = {
  interval: Duration.hours(1),
  maxConcurrent: 4,
  retries: 1,
  retryBase: Duration.millis(5),
  validationInterval: Duration.hours(24)
}

/**
 * Starts the full application (AppConfig.layerTest + `overrides`), with cheap argon2id and no background
 * sync, on 127.0.0.1 and a free port. Rate limits are high unless a test lowers them.
 */
export const startServer = async (
  overrides: Partial<AppSettings> = {},
  options: {
    readonly limits?: Partial<ConnectionLimits>
    readonly passwords?: Layer.Layer<Passwords>
    readonly simulator?: SimulatorOptions
    readonly sync?: Partial<SyncSettingsShape>
  } = {}
): Promise<TestServer> => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-http-"))
  const databaseFile = NodePath.join(dir, "app.db")
  // Imported only on PostgreSQL: the helpers import vitest, which fails outside a vitest run
  // (tests/agreement/print-totals.ts starts this server from plain tsx).
  const postgres =
    process.env.ORW_TEST_DB === "pg" ? await import("../../../packages/server/test/support/Postgres.js") : undefined
  const pg = postgres ? await postgres.freshDatabase() : undefined
  const database = pg?.database ?? Database.Sqlite({ filename: databaseFile })
  const sim = new Simulator(options.simulator ?? {})
  const simulator = await sim.start()
  const logs: Array<string> = []
  const capture = Logger.replace(
    Logger.defaultLogger,
    Logger.map(Logger.logfmtLogger, (line) => {
      logs.push(line)
    })
  )
  const config = AppConfig.layerTest({
    database,
    dataDir: dir,
    secretsDir: dir,
    openRouterApiUrl: simulator.url,
    authRateLimitPerMinute: 10_000,
    rateLimitRequests: 10_000,
    ...overrides
  })
  const layer = appLayer({
    server: listen({ host: "127.0.0.1", port: 0, ...(options.limits ? { limits: options.limits } : {}) }),
    passwords: options.passwords ?? Passwords.Test,
    backgroundSync: false,
    routes: RpcRoute
  }).pipe(
    Layer.provide(SyncSettings.Test({ ...fastSync, ...options.sync })),
    Layer.provide(config),
    Layer.provide(Layer.merge(capture, Logger.minimumLogLevel(LogLevel.Debug)))
  )
  const runtime = ManagedRuntime.make(layer)
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return {
    url: `http://127.0.0.1:${address.port}`,
    dir,
    database,
    databaseFile,
    logs,
    sim,
    simUrl: simulator.url,
    run: (effect) => runtime.runPromise(effect),
    close: async () => {
      await runtime.dispose()
      await simulator.close()
      if (pg !== undefined) await postgres?.dropDatabase(pg.url)
      NodeFs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
