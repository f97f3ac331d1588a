import { HttpServer } from "@effect/platform"
import { Layer } from "effect"
import { appLayer } from "./Http/Server.js"
import { ListenFromConfig, Logging, runMain, withSettings } from "./Launch.js"
import { RpcRoute } from "./Rpc/Route.js"

/** The server (JSON API, v1, RPC, web app) with the background sync. */
const Main = appLayer({ server: ListenFromConfig, routes: RpcRoute }).pipe(
  HttpServer.withLogAddress,
  Layer.provide(Logging),
  withSettings
)

runMain(Layer.launch(Main))
