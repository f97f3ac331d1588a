import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import type * as NodeStream from "node:stream"
import { HttpApiBuilder, type HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { OrwApi } from "@orw/domain/Api"
import { Deferred, Effect, Layer, Option } from "effect"
import { Accounts } from "../App/Accounts.js"
import { AlertsService } from "../App/Alerts.js"
import { BudgetsService } from "../App/Budgets.js"
import { Keys } from "../App/Keys.js"
import { Stats } from "../App/Stats.js"
import { Tokens } from "../App/Tokens.js"
import { WebhooksService } from "../App/Webhooks.js"
import { Jwt } from "../Auth/Jwt.js"
import { Passwords } from "../Auth/Passwords.js"
import { AppConfig } from "../Config.js"
import * as Core from "../Core.js"
import { SyncSupervisor } from "../OpenRouter/SyncSupervisor.js"
import { ServerLock } from "../ServerLock.js"
import * as Sync from "../Sync.js"
import * as Alerting from "../Webhooks/Background.js"
import { Wake } from "../Webhooks/Wake.js"
import { AccountHandlers, AuthHandlers } from "./Accounts.js"
import { AnswerCache } from "./AnswerCache.js"
import { ApiTokenAuthLive, AuthRateLimitLive, SessionAuthLive } from "./Auth.js"
import { AlertsHandlers, BudgetsHandlers, WebhooksHandlers } from "./Budgets.js"
import { DocsRoutes } from "./Docs.js"
import { makeEdge } from "./Edge.js"
import { DecodeErrorsLive, JsonBodiesLive } from "./Errors.js"
import { HealthRoutes, healthProbe } from "./Health.js"
import { KeysHandlers } from "./Keys.js"
import { answerWhileUnavailable, Drain, type LifecycleState, ServerLifecycle } from "./Lifecycle.js"
import { MetricsRoute } from "./Metrics.js"
import { RateLimits } from "./RateLimit.js"
import { securityHeaders } from "./Security.js"
import { StaticRoutes } from "./Static.js"
import { TokensHandlers } from "./Tokens.js"
import { UsageHandlers } from "./Usage.js"
import { V1Handlers } from "./V1.js"

/** The contract's groups with their security middleware. */
const ApiLive = HttpApiBuilder.api(OrwApi).pipe(
  Layer.provide([
    AuthHandlers,
    AccountHandlers,
    KeysHandlers,
    TokensHandlers,
    V1Handlers,
    UsageHandlers,
    BudgetsHandlers,
    AlertsHandlers,
    WebhooksHandlers
  ]),
  Layer.provide([SessionAuthLive, ApiTokenAuthLive, AuthRateLimitLive])
)

/**
 * The HTTP app on the HttpServer in context: the API, /openapi.json and /docs, health, metrics, the web
 * app and `routes` (layers of `HttpApiBuilder.Router.use`, e.g. the web RPC endpoint), all inside the
 * edge middleware. Every route is added before the app is built from the router.
 */
export const httpLive = <RE = never, RR = never>(routes: Layer.Layer<never, RE, RR> = Layer.empty) =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const app = yield* HttpApiBuilder.httpApp
      const edge = yield* makeEdge
      const lifecycle = yield* Effect.serviceOption(ServerLifecycle)
      if (Option.isSome(lifecycle)) {
        const health = healthProbe((yield* AppConfig).allowedHosts)
        const answers = yield* Effect.serviceOption(AnswerCache)
        const cached =
          Option.isSome(answers) && answers.value.enabled
            ? answers.value.answerer(yield* Effect.runtime<never>(), edge.finish)
            : undefined
        lifecycle.value.state.probe =
          cached === undefined ? health : (request, response) => health(request, response) || cached(request, response)
      }
      return HttpServer.serve(edge(app))
    })
  ).pipe(
    Layer.provide([
      ApiLive,
      DocsRoutes,
      HealthRoutes,
      MetricsRoute,
      StaticRoutes,
      DecodeErrorsLive,
      JsonBodiesLive,
      routes
    ]),
    Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer])
  )

/** The application services the handlers use. */
const Services = AnswerCache.Default.pipe(
  Layer.provideMerge(
    Layer.mergeAll(
      Accounts.Default,
      Keys.Default,
      Tokens.Default,
      Stats.Default,
      RateLimits.Default,
      BudgetsService.Default,
      AlertsService.Default,
      WebhooksService.Default,
      Alerting.Services
    ).pipe(Layer.provideMerge(Wake.Default))
  )
)

/**
 * A request whose body is left unread part way (the body reader stopped at MAX_BODY_BYTES) is drained
 * rather than destroyed: destroying it resets the connection, and the client never sees the 413.
 */
class DrainedRequest extends NodeHttp.IncomingMessage {
  override destroy(error?: Error): this {
    if (error !== undefined || this.complete || this.socket.destroyed) return super.destroy(error)
    this.removeAllListeners("data")
    this.resume()
    return this
  }
}

/** The requests Node refuses before any handler runs (headers too large, unparsable, too slow). */
const CLIENT_ERRORS: Record<string, readonly [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout"]
}

/** A raw `{"detail"}` answer with the security headers like every other, for a socket no handler owns. */
const rawAnswer = (status: number, reason: string) => {
  const body = JSON.stringify({ detail: reason })
  const headers = {
    ...securityHeaders("/"),
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close"
  }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`)
  return `HTTP/1.1 ${status} ${reason}\r\n${lines.join("")}\r\n${body}`
}

/**
 * Node's own answer to a request it cannot parse (a bad chunk size, a body trickled past the request
 * timeout...): `{"detail"}` with the security headers. Also when a handler already has the request, as long
 * as no answer has started: that handler's answer then goes nowhere, since the connection is closed.
 */
const answerClientError = (error: NodeJS.ErrnoException, socket: NodeStream.Duplex) => {
  const inFlight: unknown = "_httpMessage" in socket ? socket._httpMessage : undefined
  const started = inFlight instanceof NodeHttp.ServerResponse && inFlight.headersSent
  if (error.code === "ECONNRESET" || !socket.writable || started) {
    socket.destroy()
    return
  }
  const [status, reason] = CLIENT_ERRORS[error.code ?? ""] ?? [400, "Bad Request"]
  socket.end(rawAnswer(status, reason))
}

/** Limits against slow or too many clients (Node's defaults: 300 s per request, no connection cap). */
export interface ConnectionLimits {
  /** The request line and headers must arrive within this (408 after it). */
  readonly headersTimeoutMs: number
  /** The whole request, body included, must arrive within this (408 after it). */
  readonly requestTimeoutMs: number
  /** Connections beyond this many open ones are closed at once. */
  readonly maxConnections: number
  /** How often Node looks for requests past their timeouts. */
  readonly checkIntervalMs: number
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 1_024,
  checkIntervalMs: 1_000
}

/** A Node HTTP server with {@link ConnectionLimits} whose own refusals answer like the app does. */
const makeNodeServer = (limits: ConnectionLimits, state: LifecycleState) => {
  const server = NodeHttp.createServer({
    IncomingMessage: DrainedRequest,
    // A request without Host goes on to the app, whose Host check answers it like any other bad Host.
    requireHostHeader: false,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs
  })
  server.maxConnections = limits.maxConnections
  // A request the app's probe answers alone (GET /healthz) is answered before any `request` listener,
  // so it never reaches the platform's handler (which would start a fiber for it).
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: Array<unknown>) => boolean
  server.emit = ((event: string | symbol, ...args: Array<unknown>) =>
    event === "request" &&
    state.phase === "serving" &&
    state.probe?.(args[0] as NodeHttp.IncomingMessage, args[1] as NodeHttp.ServerResponse) === true
      ? true
      : emit(event, ...args)) as typeof server.emit
  server.on("clientError", answerClientError)
  // CONNECT (a proxy tunnel) is nothing this server does; without a listener Node closes the socket unanswered.
  server.on("connect", (_request: NodeHttp.IncomingMessage, socket: NodeStream.Duplex) => {
    socket.on("error", () => socket.destroy())
    socket.end(rawAnswer(405, "Method Not Allowed"))
  })
  return server
}

/** The other loopback address: a server on 127.0.0.1 also answers on [::1], and the other way round. */
const LOOPBACK_TWIN: Record<string, string> = { "127.0.0.1": "::1", "::1": "127.0.0.1" }

/**
 * A Node HTTP server listening on `host:port` (port 0: a free port), with the platform services. On a
 * loopback address it also takes connections on the other family's loopback (when the machine has one).
 * The port opens at once: until the app is served on it (after migrations and projection rebuilds) and
 * again once it stops, `answerWhileUnavailable` answers (503, `/healthz` 200), so no request hangs. Its
 * {@link ServerLifecycle} lets `appLayer` drain the server gracefully on shutdown.
 */
export const listen = (options: {
  readonly host: string
  readonly port: number
  readonly limits?: Partial<ConnectionLimits>
}) => {
  let server: NodeHttp.Server | undefined
  const state: LifecycleState = { phase: "starting", inFlight: 0 }
  const primary = NodeHttpServer.layer(
    () => {
      const made = makeNodeServer({ ...DEFAULT_LIMITS, ...options.limits }, state)
      made.on("request", answerWhileUnavailable(made, state))
      server = made
      return made
    },
    { host: options.host, port: options.port }
  )
  const lifecycle = Layer.effect(
    ServerLifecycle,
    Effect.gen(function* () {
      if (server === undefined) return yield* Effect.dieMessage("listen: no server")
      return { server, state, idle: yield* Deferred.make<void>(), deadline: yield* Deferred.make<void>() }
    })
  )
  const twin = Layer.scopedDiscard(
    Effect.gen(function* () {
      const http = server
      const address = http?.address()
      if (http === undefined || typeof address !== "object" || address === null) return
      const host = LOOPBACK_TWIN[address.address]
      if (host === undefined) return
      const listener = NodeNet.createServer((socket) => http.emit("connection", socket))
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          listener.once("error", (error) => resume(Effect.logWarning(`Not listening on ${host}: ${error.message}`)))
          listener.listen({ host, port: address.port }, () => resume(Effect.void))
        }),
        () => Effect.sync(() => listener.close())
      )
    })
  )
  return Layer.merge(twin, lifecycle).pipe(Layer.provideMerge(primary))
}

/** What {@link appLayer} is built from. */
export interface AppLayerOptions<E, R, RE = never, RR = never> {
  /** The listening server and its platform services, e.g. `NodeHttpServer.layer(...)`. */
  readonly server: Layer.Layer<HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices, E, R>
  /** `Passwords.Default` (argon2id) unless given; tests pass `Passwords.Test`. */
  readonly passwords?: Layer.Layer<Passwords>
  /** Run the background sync fibers (SyncSupervisor) while the server runs. Default true. */
  readonly backgroundSync?: boolean
  /** Run the alert catch-up, the webhook outbox and the delivery worker. Default true. */
  readonly backgroundDelivery?: boolean
  /** More routes on the same router and edge (e.g. `RpcRoute`); they may use every service of the app. */
  readonly routes?: Layer.Layer<never, RE, RR>
}

/**
 * The whole application: `Core.layer` (AppConfig's database, held by one server: `ServerLock`), `Sync.layer` (vault, OpenRouter sync),
 * sessions and the HTTP app on `options.server`. Needs AppConfig and SyncSettings (see `Launch.withSettings`;
 * tests give `AppConfig.layerTest` and `SyncSettings.Test`). Its output keeps the core and the server, so
 * a caller (a test) can read the bound address and the database.
 */
export const appLayer = <E, R, RE = never, RR = never>(options: AppLayerOptions<E, R, RE, RR>) => {
  const background = Layer.mergeAll(
    options.backgroundSync === false ? Layer.empty : SyncSupervisor.Default,
    options.backgroundDelivery === false ? Layer.empty : Alerting.BackgroundDelivery
  )
  // Drain is built last, so its finalizer (the graceful stop) runs first; it finds the ServerLifecycle
  // that `listen` provides beside the server, and does nothing on a server without one.
  return Drain.pipe(
    Layer.provideMerge(httpLive(options.routes)),
    Layer.provideMerge(background.pipe(Layer.provideMerge(Services))),
    Layer.provideMerge(Layer.mergeAll(Sync.layer, Jwt.Default, options.passwords ?? Passwords.Default)),
    // The lock first and released last: a second server on the same database stops before opening it.
    Layer.provideMerge(Core.layer.pipe(Layer.provide(ServerLock))),
    Layer.provideMerge(options.server)
  )
}
