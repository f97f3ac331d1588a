import { FetchHttpClient, HttpClient } from "@effect/platform"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { WebRpcs } from "@orw/domain/Rpc"
import { Effect, Layer, ManagedRuntime } from "effect"

/** Same-origin fetch with the session cookie; the server checks the Origin of every call. */
const Fetch = FetchHttpClient.layer.pipe(
  Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, { credentials: "same-origin" }))
)

/**
 * The RPC transport sees a non-2xx answer (a stopping server's 503, a proxy's 502) as a failed request,
 * not as a malformed RPC body, so the UI can tell "unreachable, retrying" from a refusal.
 */
const RpcFetch = Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, HttpClient.filterStatusOk)).pipe(
  Layer.provide(Fetch)
)

/** The typed client of the web RPCs (`POST /rpc`, JSON). */
export class WebClient extends Effect.Service<WebClient>()("orw/web/WebClient", {
  scoped: RpcClient.make(WebRpcs),
  dependencies: [
    RpcClient.layerProtocolHttp({ url: "/rpc" }).pipe(Layer.provide([RpcFetch, RpcSerialization.layerJson]))
  ]
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
