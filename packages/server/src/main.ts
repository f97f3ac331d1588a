import { HttpServer } from "@effect/platform"
import { Effect, Layer, Logger } from "effect"
import { AppConfig } from "./Config.js"
import { appLayer } from "./Http/Server.js"
import { ListenFromConfig, runMain, withSettings } from "./Launch.js"
import { RpcRoute } from "./Rpc/Route.js"

/** LOG_LEVEL; logfmt lines unless a person is watching the terminal. */
const Logging = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ logLevel }) =>
    Layer.merge(Logger.minimumLogLevel(logLevel), process.stdout.isTTY ? Logger.pretty : Logger.logFmt)
  )
)

/** The server (JSON API, v1, RPC, web app) with the background sync. */
const Main = appLayer({ server: ListenFromConfig, routes: RpcRoute }).pipe(
  HttpServer.withLogAddress,
  Layer.provide(Logging),
  withSettings
)

runMain(Layer.launch(Main))
