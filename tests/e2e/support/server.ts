import * as NodeFs from "node:fs"
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

/**
 * Starts `simulator` and the whole application against it, with the web RPC endpoint mounted as in
 * production, cheap argon2id and no background sync (the UI's "Sync now" drives the sync).
 */
export const startApp = async (simulator = new Simulator()): Promise<RunningApp> => {
  const sim = await simulator.start()
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-e2e-"))
  const databaseFile = NodePath.join(dir, "app.db")
  const config = AppConfig.layerTest({
    database: Database.Sqlite({ filename: databaseFile }),
    dataDir: dir,
    secretsDir: dir,
    openRouterApiUrl: sim.url,
    authRateLimitPerMinute: 1_000
  })
  const app = appLayer({
    server: listen({ host: "127.0.0.1", port: 0 }),
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
      await sim.close()
      NodeFs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
