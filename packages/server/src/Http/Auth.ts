import { HttpServerRequest } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { UserId } from "@orw/domain"
import {
  ApiTokenAuth,
  AuthRateLimit,
  SESSION_COOKIE,
  SessionAuth,
  TooManyRequests,
  Unauthenticated
} from "@orw/domain/Api"
import { Effect, Layer, Option, Redacted } from "effect"
import { Tokens } from "../App/Tokens.js"
import type { Jwt } from "../Auth/Jwt.js"
import { sessionUser } from "../Auth/Sessions.js"
import { RateLimits, withRateLimitHeaders } from "./RateLimit.js"
import { CurrentRequest } from "./RequestContext.js"
import { routePath } from "./Routes.js"
import { clearSessionCookie } from "./Session.js"

const NOT_AUTHENTICATED = "Not authenticated"
const INVALID_TOKEN = "Invalid or expired token"
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"])

/** 401 with "Not authenticated" when no credentials came at all, else "Invalid or expired token". */
const unauthorized = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const sent = request.headers.authorization !== undefined || request.cookies[SESSION_COOKIE] !== undefined
  return new Unauthenticated({ detail: sent ? INVALID_TOKEN : NOT_AUTHENTICATED })
})

/**
 * A cookie-authenticated write must show it comes from our own page: an `Origin` naming this host, or (a
 * browser that sends no Origin) `Sec-Fetch-Site: same-origin`. SameSite=Strict already keeps the cookie off
 * cross-site requests; this holds even for a browser that ignores SameSite, and for a request with neither
 * header (a script's forged request is no browser navigation of ours). Bearer writes need neither.
 */
const sameOrigin = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  if (!UNSAFE_METHODS.has(request.method)) return true
  const origin = request.headers.origin
  if (origin === undefined) return request.headers["sec-fetch-site"] === "same-origin"
  try {
    return new URL(origin).host === request.headers.host
  } catch {
    return false
  }
})

/** Sessions: a JWT that verifies, of a user that still exists, issued after the user's last password change. */
export const SessionAuthLive = Layer.effect(
  SessionAuth,
  Effect.gen(function* () {
    const context = yield* Effect.context<Jwt | SqlClient.SqlClient>()

    const authenticate = (token: Redacted.Redacted<string>, via: "bearer" | "cookie") =>
      Effect.flatMap(Effect.provide(sessionUser(token), context), (userId) =>
        Option.isSome(userId)
          ? Effect.succeed({ userId: userId.value, via })
          : Effect.flatMap(unauthorized, Effect.fail)
      )

    return SessionAuth.of({
      bearer: (token) => authenticate(token, "bearer"),
      cookie: (token) =>
        Effect.gen(function* () {
          if (Redacted.value(token) === "") return yield* Effect.flatMap(unauthorized, Effect.fail)
          if (!(yield* sameOrigin))
            return yield* Effect.fail(new Unauthenticated({ detail: "Cross-origin request refused" }))
          // A cookie that no longer works is cleared, so the browser stops sending it.
          return yield* authenticate(token, "cookie").pipe(Effect.tapError(() => clearSessionCookie))
        })
    })
  })
)

/** Public-API tokens, rate limited per token (per client IP for requests without a valid token). */
export const ApiTokenAuthLive = Layer.effect(
  ApiTokenAuth,
  Effect.gen(function* () {
    const tokens = yield* Tokens
    const limits = yield* RateLimits
    return ApiTokenAuth.of({
      bearer: (token) =>
        Effect.gen(function* () {
          const owner = yield* tokens.authenticate(token)
          const request = yield* CurrentRequest
          const bucket = Option.isSome(owner) ? `token:${owner.value.tokenId}` : `anonymous:${request.clientIp}`
          const decision = yield* limits.api(bucket)
          yield* withRateLimitHeaders(decision)
          if (!decision.allowed) return yield* Effect.fail(new TooManyRequests({ detail: "Rate limit exceeded" }))
          if (Option.isNone(owner)) return yield* Effect.flatMap(unauthorized, Effect.fail)
          request.token.id = owner.value.tokenId
          return { userId: UserId.make(owner.value.userId), via: "token" as const }
        })
    })
  })
)

/**
 * The bucket of a login or register request by what it is, never by how its URL is spelled: the router
 * matches `/API/auth/login`, `//api/auth/login` and `/api/auth/login/` too, and each spelling must not be a
 * fresh bucket. Only these two endpoints carry the middleware, so anything not register is login.
 */
export const authBucket = (url: string) => (routePath(url).toLowerCase().endsWith("/register") ? "register" : "login")

/** AUTH_RATE_LIMIT_PER_MINUTE per client IP, counted separately for login and register. */
export const AuthRateLimitLive = Layer.effect(
  AuthRateLimit,
  Effect.gen(function* () {
    const limits = yield* RateLimits
    return Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const { clientIp } = yield* CurrentRequest
      const decision = yield* limits.auth(`${authBucket(request.url)}:${clientIp}`)
      yield* withRateLimitHeaders(decision)
      if (!decision.allowed) {
        return yield* Effect.fail(new TooManyRequests({ detail: "Too many attempts, try again later" }))
      }
    })
  })
)
