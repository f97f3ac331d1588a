import * as NodeCrypto from "node:crypto"
import { type HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Clock, Config, Effect, Option } from "effect"
import { AppConfig } from "../Config.js"
import * as Metrics from "../Metrics.js"
import { AnswerCache, type EdgeFinish } from "./AnswerCache.js"
import { compressResponse } from "./Compression.js"
import { withoutPagingForCsv } from "./Csv.js"
import { detailResponse, failureResponse } from "./Errors.js"
import { interruptedResponse, tracked } from "./Lifecycle.js"
import { routeLabeler, rpcTags } from "./Metrics.js"
import { CurrentRequest, type RequestInfo } from "./RequestContext.js"
import { routePath } from "./Routes.js"
import { clientIp, clientIpOf, hostAllowed, isSecure, securityHeaders } from "./Security.js"

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
  const answers = Option.filter(yield* Effect.serviceOption(AnswerCache), (cache) => cache.enabled)

  /** The edge's own headers on every answer. The API's and the RPC's answers carry sessions' data and tokens. */
  const headers = (path: string, cacheControl: string | undefined, requestId: string) => ({
    ...securityHeaders(path),
    ...((path.startsWith("/api/") || path === "/rpc") && cacheControl === undefined
      ? { "cache-control": "no-store" }
      : {}),
    "x-request-id": requestId
  })

  /** The request counter and the access log line of an answer (annotated with the request id by the caller). */
  const record = (method: string, route: string, path: string, status: number, elapsedMs: number, ip: string) =>
    Effect.zipRight(
      Metrics.recordRequest(method, route, status, elapsedMs / 1000),
      Effect.logInfo(`${method} ${path} ${status} ${elapsedMs}ms`).pipe(Effect.annotateLogs({ clientIp: ip }))
    )

  /** What the answer cache does as the edge would, for the requests it answers without the router. */
  const finish: EdgeFinish = {
    headers,
    record: (method, path, status, elapsedMs, ip, requestId) =>
      Effect.annotateLogs(
        record(method, label(method, path, status), path, status, elapsedMs, ip),
        "requestId",
        requestId
      ),
    clientIp: (forwardedFor, remoteAddress) => clientIpOf(forwardedFor, remoteAddress, settings.trustProxy)
  }

  const handle = <E, R>(app: HttpApp.Default<E, R>, request: HttpServerRequest.HttpServerRequest, requestId: string) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const path = routePath(request.url)
      const correlation = request.headers["x-correlation-id"]
      const info: RequestInfo = {
        requestId,
        correlationId: correlation !== undefined && CORRELATION_ID.test(correlation) ? correlation : requestId,
        clientIp: clientIp(request, settings.trustProxy),
        secure: isSecure(request, settings.cookieSecure),
        token: { id: undefined }
      }
      const declared = Number(request.headers["content-length"] ?? 0)
      const allowed = hostAllowed(request, config.allowedHosts)
      const slot = allowed && Option.isSome(answers) ? yield* answers.value.slot(request) : undefined
      const response = !allowed
        ? detailResponse(400, "Invalid host header")
        : declared > MAX_BODY_BYTES
          ? detailResponse(413, "Request body too large")
          : yield* app.pipe(
              Effect.provideService(CurrentRequest, info),
              Effect.provideService(HttpServerRequest.HttpServerRequest, withoutPagingForCsv(request)),
              HttpIncomingMessage.withMaxBodySize(Option.some(MAX_BODY_BYTES)),
              // Work interrupted under a request that is itself still running (the sync fibers stopping at
              // shutdown, say) is a 503 with a detail, never a 500.
              Effect.catchAllCause((cause) =>
                Cause.isInterruptedOnly(cause)
                  ? Effect.succeed(interruptedResponse())
                  : failureResponse(cause, requestId)
              )
            )
      if (slot !== undefined && Option.isSome(answers)) yield* answers.value.keep(slot, response, info.token.id)
      const answered = HttpServerResponse.setHeaders(
        compressResponse(response, request.headers["accept-encoding"]),
        headers(path, response.headers["cache-control"], requestId)
      )
      const elapsed = (yield* Clock.currentTimeMillis) - started
      const rpc = path === "/rpc" && answered.status < 400 ? yield* rpcTags(request) : []
      yield* record(
        request.method,
        label(request.method, path, answered.status, rpc),
        path,
        answered.status,
        elapsed,
        info.clientIp
      )
      return answered
    })

  const edge = <E, R>(app: HttpApp.Default<E, R>) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const requestId = NodeCrypto.randomUUID()
      return Effect.annotateLogs(tracked(handle(app, request, requestId)), "requestId", requestId)
    })
  return Object.assign(edge, { finish })
})
