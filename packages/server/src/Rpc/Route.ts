import { HttpApiBuilder, type HttpApp, HttpServerRequest } from "@effect/platform"
import { RpcSerialization, RpcServer } from "@effect/rpc"
import { WebRpcs } from "@orw/domain/Rpc"
import { Effect, Layer } from "effect"
import { AppConfig } from "../Config.js"
import { detailResponse, TOO_DEEP } from "../Http/Errors.js"
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../Http/JsonDepth.js"
import { WebRpcHandlers } from "./Handlers.js"
import { requireSameOrigin } from "./Origin.js"
import { SessionAuthLive } from "./Session.js"

/** The path the web UI posts its calls to. */
export const RPC_PATH = "/rpc"

/**
 * What the endpoint adds to the server's services: the handlers, the session middleware and JSON
 * serialization. It needs the application services (Accounts, Keys, Tokens), Passwords, Jwt,
 * AppConfig and SqlClient, all of which `appLayer` provides to its `routes`.
 */
export const WebRpcLive = Layer.mergeAll(WebRpcHandlers, SessionAuthLive, RpcSerialization.layerJson)

/**
 * The web RPC endpoint as an HttpApp for `POST /rpc`: calls from another Origin get 403 before
 * they are read; the rest go to the RPC server (which lives as long as the enclosing scope).
 */
export const makeRpcApp = Effect.gen(function* () {
  const { allowedHosts } = yield* AppConfig
  const app = yield* RpcServer.toHttpApp(WebRpcs, { spanPrefix: "WebRpc" })
  return requireSameOrigin(allowedHosts)(refuseDeepBodies(app))
})

/** A call nested deeper than {@link MAX_JSON_DEPTH} is 400 before the RPC server parses it (see `nestsDeeperThan`). */
const refuseDeepBodies = <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    Effect.flatMap(request.text, (text) =>
      nestsDeeperThan(text) ? Effect.succeed(detailResponse(400, TOO_DEEP)) : app
    )
  )

/** Adds `POST /rpc` to the HttpApi server's router (`HttpApiBuilder.Router`). */
export const RpcRoute = HttpApiBuilder.Router.use((router) =>
  Effect.flatMap(makeRpcApp, (app) => router.post(RPC_PATH, app))
).pipe(Layer.provide(WebRpcLive))
