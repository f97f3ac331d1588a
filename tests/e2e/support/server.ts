import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { HttpServer } from "@effect/platform"
import { Passwords } from "@orw/server/Auth/Passwords"
import { AppConfig } from "@orw/server/Config"
import { Database } from "@orw/server/DatabaseUrl"
import { appLayer, listen } from "@orw/server/Http/Server"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { SyncSettings } from "@orw/server/OpenRouter/SyncSettings"
import { RpcRoute } from "@orw/server/Rpc/Route"
import { Effect, Layer, Logger, LogLevel, ManagedRuntime } from "effect"

/** A running application: the real server composition on a free loopback port, a temp database and a simulator. */
export interface RunningApp {
  /** e.g. `http://127.0.0.1:PORT` */
  readonly origin: string
  readonly simulator: Simulator
  readonly databaseFile: string
  readonly close: () => Promise<void>
}

/** Where and how to run the app; a fixed `port` and a kept `dir` let a test stop it and start it again. */
export interface AppOptions {
  /** 0 (default) for a free port. */
  readonly port?: number
  /** The data folder (database, secrets); a fresh temp folder, removed on close, when not given. */
  readonly dir?: string
  /** Started already, and left running on close (it outlives a restart of the app). */
  readonly simulatorUrl?: string
  /** AUTH_RATE_LIMIT_PER_MINUTE; high by default, so tests do not trip it. */
  readonly authRateLimitPerMinute?: number
}

/**
 * Starts `simulator` and the whole application against it, with the web RPC endpoint mounted as in
 * production, cheap argon2id and no background sync (the UI's "Sync now" drives the sync).
 */
export const startApp = async (simulator = new Simulator(), options: AppOptions = {}): Promise<RunningApp> => {
  const sim = options.simulatorUrl === undefined ? await simulator.start() : undefined
  const dir = options.dir ?? NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-e2e-"))
  const databaseFile = NodePath.join(dir, "app.db")
  const config = AppConfig.layerTest({
    database: Database.Sqlite({ filename: databaseFile }),
    dataDir: dir,
    secretsDir: dir,
    openRouterApiUrl: options.simulatorUrl ?? sim?.url ?? "",
    authRateLimitPerMinute: options.authRateLimitPerMinute ?? 1_000
  })
  const app = appLayer({
    server: listen({ host: "127.0.0.1", port: options.port ?? 0 }),
    routes: RpcRoute,
    passwords: Passwords.Test,
    backgroundSync: false
  })
  const runtime = ManagedRuntime.make(
    app.pipe(
      Layer.provide(SyncSettings.Test()),
      Layer.provide(config),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
  )
  const address = await runtime.runPromise(Effect.map(HttpServer.HttpServer, (server) => server.address))
  if (address._tag !== "TcpAddress") throw new Error("expected a TCP address")
  return {
    origin: `http://127.0.0.1:${address.port}`,
    simulator,
    databaseFile,
    close: async () => {
      await runtime.dispose()
      await sim?.close()
      if (options.dir === undefined) NodeFs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A loopback port free right now (for an app that must come back on the same origin after a restart). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = NodeNet.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })
