import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, ManagedRuntime } from "effect"
import { makeWebRpcClient, type WebRpcClient } from "./rpc-client.js"

/** Same-origin fetch with the session cookie; the server checks the Origin of every call. */
const Fetch = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { credentials: "same-origin" }))
)

/** The typed client of the web RPCs (`POST /rpc`, JSON): see rpc-client.ts. */
export class WebClient extends Effect.Service<WebClient>()("orw/web/WebClient", {
  sync: (): WebRpcClient => makeWebRpcClient()
}) {}

/** What the UI's effects may use: the RPC client, and plain HTTP for the JSON auth endpoints. */
export const AppLayer = Layer.merge(WebClient.Default, Fetch)

/** The services the UI's effects run with. */
export type AppServices = Layer.Layer.Success<typeof AppLayer>

/** The one runtime of the page, handed to elements through `runtimeContext`. */
export type AppRuntime = ManagedRuntime.ManagedRuntime<AppServices, never>

export const makeRuntime = (): AppRuntime => ManagedRuntime.make(AppLayer)

/** Runs `f` with the RPC client. */
export const rpc = <A, E>(f: (client: WebClient) => Effect.Effect<A, E>) => Effect.flatMap(WebClient, f)
