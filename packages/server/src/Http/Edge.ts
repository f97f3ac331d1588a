import * as NodeCrypto from "node:crypto"
import { type HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Clock, Config, Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import * as Metrics from "../Metrics.js"
import { compressResponse } from "./Compression.js"
import { detailResponse, failureResponse } from "./Errors.js"
import { interruptedResponse, tracked } from "./Lifecycle.js"
import { routeLabeler, rpcTags } from "./Metrics.js"
import { CurrentRequest, type RequestInfo } from "./RequestContext.js"
import { routePath } from "./Routes.js"
import { clientIp, hostAllowed, isSecure, securityHeaders } from "./Security.js"

/** Request bodies above this are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Settings only the HTTP edge reads. */
const EdgeSettings = Config.all({
  /** Behind a reverse proxy: take the client IP from `X-Forwarded-For`. */
  trustProxy: Config.boolean("TRUST_PROXY").pipe(Config.withDefault(false)),
  /** Always mark the session cookie `Secure` (TLS terminated somewhere that sets no `X-Forwarded-Proto`). */
  cookieSecure: Config.boolean("COOKIE_SECURE").pipe(Config.withDefault(false))
})

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/

/**
 * The outermost middleware, around everything the router serves: a request id (`X-Request-Id`) and the
 * request's context, the Host check, the security headers on every response (errors and 404s too), the
 * `{"detail"}` answer to anything that failed (a defect is logged, never shown), compression of the JSON
 * answers (br/gzip as Accept-Encoding asks, see Compression.ts), an access log line and the request counter.
 */
export const makeEdge = Effect.gen(function* () {
  const config = yield* AppConfig
  const settings = yield* EdgeSettings
  const label = routeLabeler()

  const handle = <E, R>(app: HttpApp.Default<E, R>, request: HttpServerRequest.HttpServerRequest, requestId: string) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const path = routePath(request.url)
      const correlation = request.headers["x-correlation-id"]
      const info: RequestInfo = {
        requestId,
        correlationId: correlation !== undefined && CORRELATION_ID.test(correlation) ? correlation : requestId,
        clientIp: clientIp(request, settings.trustProxy),
        secure: isSecure(request, settings.cookieSecure)
      }
      const declared = Number(request.headers["content-length"] ?? 0)
      const response = !hostAllowed(request, config.allowedHosts)
        ? detailResponse(400, "Invalid host header")
        : declared > MAX_BODY_BYTES
          ? detailResponse(413, "Request body too large")
          : yield* app.pipe(
              Effect.provideService(CurrentRequest, info),
              HttpIncomingMessage.withMaxBodySize(Option.some(MAX_BODY_BYTES)),
              // Work interrupted under a request that is itself still running (the sync fibers stopping at
              // shutdown, say) is a 503 with a detail, never a 500.
              Effect.catchAllCause((cause) =>
                Cause.isInterruptedOnly(cause)
                  ? Effect.succeed(interruptedResponse())
                  : failureResponse(cause, requestId)
              )
            )
      // The RPC answers carry sessions' data and a created token's secret, like the API's.
      const noStore = (path.startsWith("/api/") || path === "/rpc") && response.headers["cache-control"] === undefined
      const answered = HttpServerResponse.setHeaders(compressResponse(response, request.headers["accept-encoding"]), {
        ...securityHeaders(path),
        ...(noStore ? { "cache-control": "no-store" } : {}),
        "x-request-id": requestId
      })
      const elapsed = (yield* Clock.currentTimeMillis) - started
      const rpc = path === "/rpc" && answered.status < 400 ? yield* rpcTags(request) : []
      const route = label(request.method, path, answered.status, rpc)
      yield* Metrics.recordRequest(request.method, route, answered.status, elapsed / 1000)
      yield* Effect.logInfo(`${request.method} ${path} ${answered.status} ${elapsed}ms`).pipe(
        Effect.annotateLogs({ clientIp: info.clientIp })
      )
      return answered
    })

  return <E, R>(app: HttpApp.Default<E, R>) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const requestId = NodeCrypto.randomUUID()
      return Effect.annotateLogs(tracked(handle(app, request, requestId)), "requestId", requestId)
    })
})
