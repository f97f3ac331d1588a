import { HttpServer } from "@effect/platform"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger } from "effect"
import { AppConfig, layerDotEnv } from "./Config.js"
import { appLayer, listen } from "./Http/Server.js"
import { SyncSettings } from "./OpenRouter/SyncSettings.js"
import { RpcRoute } from "./Rpc/Route.js"

/** Listens on HOST:PORT. */
const Listen = Layer.unwrapEffect(Effect.map(AppConfig, ({ host, port }) => listen({ host, port })))

/** LOG_LEVEL; logfmt lines unless a person is watching the terminal. */
const Logging = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ logLevel }) =>
    Layer.merge(Logger.minimumLogLevel(logLevel), process.stdout.isTTY ? Logger.pretty : Logger.logFmt)
  )
)

/** The server with the background sync; `.env` is read below everything else. */
const Main = appLayer({ server: Listen, routes: RpcRoute }).pipe(
  HttpServer.withLogAddress,
  Layer.provide(Logging),
  Layer.provide(SyncSettings.layerConfig),
  Layer.provide(AppConfig.Default),
  Layer.provide(layerDotEnv())
)

// A bad setting is one line naming the variable, not a stack trace. SIGINT/SIGTERM close the layers in order.
Layer.launch(Main).pipe(
  Effect.catchTag("InvalidConfig", (error) =>
    Effect.zipRight(
      Console.error(error.message),
      Effect.sync(() => {
        process.exitCode = 1
      })
    )
  ),
  NodeRuntime.runMain({ disablePrettyLogger: true })
)
