import type * as NodeHttp from "node:http"
import { HttpServerResponse } from "@effect/platform"
import { Context, Deferred, Duration, Effect, Exit, Layer, Option } from "effect"
import { securityHeaders } from "./Security.js"

/** How long in-flight requests may run after SIGTERM/SIGINT before they are answered 503. */
export const DRAIN_TIMEOUT = Duration.seconds(10)
/** What a client waits before retrying a 503 of a starting or stopping server (seconds). */
export const RETRY_AFTER_SECONDS = 5

type Phase = "starting" | "serving" | "draining"

/** What the Node server and the app share about the server's life. */
export interface LifecycleState {
  phase: Phase
  inFlight: number
  /**
   * Set by the app once it serves: answers a request before any `request` listener (and so before the
   * Effect runtime) when it is one it handles alone, e.g. `GET /healthz`; returns whether it did.
   */
  probe?: ((request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => boolean) | undefined
}

/**
 * The life of the Node server under the app: its phase, the requests in flight, and the deadline after
 * which a draining server answers what is still running with 503. Provided by `listen`; absent in tests
 * that run the app on `NodeHttpServer.layerTest`, where the app then behaves as before.
 */
export class ServerLifecycle extends Context.Tag("orw/ServerLifecycle")<
  ServerLifecycle,
  {
    readonly server: NodeHttp.Server
    readonly state: LifecycleState
    /** Completed when the last in-flight request of a draining server is answered. */
    readonly idle: Deferred.Deferred<void>
    /** Completed when the drain's time is up. */
    readonly deadline: Deferred.Deferred<void>
  }
>() {}

const DETAIL = {
  starting: "The server is starting (migrations, projections); retry shortly",
  draining: "The server is shutting down; retry shortly"
} as const

const pathOf = (url: string | undefined) => (url ?? "/").split(/[?#]/)[0] ?? "/"

/**
 * The Node server's first `request` listener: it answers only while the app's own handler is not attached,
 * that is while the app starts (migrations and projection rebuilds run behind an open port) and after it
 * stopped serving. `/healthz` is 200 while starting (the process is alive), `/readyz` and everything else
 * 503 with `Retry-After` and `{"detail"}`, so no request ever waits on a port that has no handler yet.
 */
export const answerWhileUnavailable =
  (server: NodeHttp.Server, state: { readonly phase: Phase }) =>
  (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => {
    if (server.listenerCount("request") > 1) return
    const path = pathOf(request.url)
    const alive = path === "/healthz" && state.phase === "starting"
    const body = JSON.stringify(
      alive ? { status: "ok" } : { detail: state.phase === "starting" ? DETAIL.starting : DETAIL.draining }
    )
    response.writeHead(alive ? 200 : 503, {
      ...securityHeaders(path),
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "cache-control": "no-store",
      ...(alive ? {} : { "retry-after": String(RETRY_AFTER_SECONDS) }),
      ...(state.phase === "draining" ? { connection: "close" } : {})
    })
    // Unread request bodies are drained, so the answer is not cut short by a reset.
    request.resume()
    response.end(request.method === "HEAD" ? undefined : body)
  }

/** The 503 of a request that arrives while the server drains. */
const drainingResponse = () =>
  HttpServerResponse.unsafeJson(
    { detail: DETAIL.draining },
    { status: 503, headers: { "retry-after": String(RETRY_AFTER_SECONDS), connection: "close" } }
  )

/** The 503 of a request still running when the drain's time is up (a manual sync, say). */
export const interruptedResponse = () =>
  HttpServerResponse.unsafeJson(
    { detail: "The server is shutting down and interrupted this request; retry shortly" },
    { status: 503, headers: { "retry-after": String(RETRY_AFTER_SECONDS), connection: "close" } }
  )

/**
 * Edge bookkeeping around one request: counted in flight, answered 503 when the drain's time is up,
 * and told to close its connection once the server drains.
 */
export const tracked = <E, R>(handle: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  Effect.flatMap(Effect.serviceOption(ServerLifecycle), (lifecycle) => {
    if (Option.isNone(lifecycle)) return handle
    const { state, idle, deadline } = lifecycle.value
    if (state.phase === "draining") return Effect.succeed(drainingResponse())
    return Effect.acquireUseRelease(
      Effect.sync(() => {
        state.inFlight++
      }),
      () =>
        handle.pipe(
          // The platform runs handlers uninterruptibly: the waiter must be interruptible itself, or the race
          // would wait forever to interrupt it once the handler has answered.
          Effect.raceFirst(Effect.interruptible(Effect.as(Deferred.await(deadline), interruptedResponse()))),
          Effect.map((response) =>
            state.phase === "draining" ? HttpServerResponse.setHeader(response, "connection", "close") : response
          )
        ),
      () =>
        Effect.suspend(() => {
          state.inFlight--
          return state.phase === "draining" && state.inFlight === 0 ? Deferred.succeed(idle, undefined) : Effect.void
        })
    )
  })

/**
 * The server's graceful stop, as the first finalizer of the app (build it last): on SIGTERM/SIGINT take no
 * new work (503), let in-flight requests finish for up to {@link DRAIN_TIMEOUT}, answer what still runs
 * with 503, then stop listening and close every connection. Only then do the
 * later finalizers run: the sync fibers are interrupted and the database is checkpointed and closed.
 */
export const Drain = Layer.scopedDiscard(
  Effect.gen(function* () {
    const found = yield* Effect.serviceOption(ServerLifecycle)
    if (Option.isNone(found)) return
    const { server, state, idle, deadline } = found.value
    state.phase = "serving"
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        // New requests get 503 + Retry-After + `Connection: close` from now on (see `tracked`), so a client or
        // load balancer learns at once to go elsewhere. The listening socket stays open until the in-flight
        // requests are answered: closing it earlier would reset the connections still in the kernel's accept
        // queue, and their clients could not tell whether their request ran.
        state.phase = "draining"
        yield* Effect.logInfo(`Shutting down: draining ${state.inFlight} request(s)`)
        if (state.inFlight === 0) yield* Deferred.succeed(idle, undefined)
        // Finalizers run uninterruptibly; the waits are made interruptible so that their timeouts can end them.
        const drained = yield* Deferred.await(idle).pipe(
          Effect.interruptible,
          Effect.timeoutTo({ duration: DRAIN_TIMEOUT, onSuccess: () => true, onTimeout: () => false })
        )
        if (!drained) {
          yield* Effect.logWarning(`Shutting down: ${state.inFlight} request(s) still running are answered 503`)
          yield* Deferred.succeed(deadline, undefined)
          yield* Deferred.await(idle).pipe(Effect.interruptible, Effect.timeout("2 seconds"), Effect.ignore)
        }
        const closed = yield* Deferred.make<void>()
        server.close(() => Deferred.unsafeDone(closed, Exit.void))
        server.closeIdleConnections()
        yield* Deferred.await(closed).pipe(Effect.interruptible, Effect.timeout("1 second"), Effect.ignore)
        server.closeAllConnections()
      })
    )
  })
)
