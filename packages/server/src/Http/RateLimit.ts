import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Cache, Clock, Duration, Effect, Ref } from "effect"
import { AppConfig } from "../Config.js"

/** What one request got from a limiter. */
export interface RateLimitDecision {
  readonly allowed: boolean
  readonly limit: number
  /** Requests left in the window after this one. */
  readonly remaining: number
  /** Seconds until the window resets (at least 1). */
  readonly resetSeconds: number
}

/** Limits for keys in one window each (bounded memory: the least recently used windows are dropped first). */
export type Limiter = (key: string) => Effect.Effect<RateLimitDecision>

/** Keys tracked per limiter; beyond this the least recently used windows are forgotten. */
const CAPACITY = 50_000

/**
 * A fixed-window limiter: a key's window opens with its first request and lasts `window`; at most
 * `limit` requests pass in it. Windows live in an Effect `Cache` whose time to live is the window, so
 * an expired window is simply looked up anew and memory stays bounded by {@link CAPACITY}.
 */
export const makeLimiter = (limit: number, window: Duration.Duration) =>
  Effect.gen(function* () {
    const windowMs = Duration.toMillis(window)
    const windows = yield* Cache.make({
      capacity: CAPACITY,
      timeToLive: window,
      lookup: (_key: string) =>
        Effect.map(Clock.currentTimeMillis, (now) => ({ resetAt: now + windowMs, used: Ref.unsafeMake(0) }))
    })
    const current = (key: string) =>
      Effect.gen(function* () {
        const found = yield* windows.get(key)
        if (found.resetAt > (yield* Clock.currentTimeMillis)) return found
        yield* windows.invalidate(key)
        return yield* windows.get(key)
      })
    const limiter: Limiter = (key) =>
      Effect.gen(function* () {
        const { resetAt, used } = yield* current(key)
        const [allowed, count] = yield* Ref.modify(used, (n): [[boolean, number], number] =>
          n < limit ? [[true, n + 1], n + 1] : [[false, n], n]
        )
        const now = yield* Clock.currentTimeMillis
        return {
          allowed,
          limit,
          remaining: Math.max(0, limit - count),
          resetSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000))
        } satisfies RateLimitDecision
      })
    return limiter
  })

/** The limiters of the HTTP API: login/register per client IP, and the public API per token. */
export class RateLimits extends Effect.Service<RateLimits>()("orw/Http/RateLimits", {
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    return {
      /** AUTH_RATE_LIMIT_PER_MINUTE per minute. */
      auth: yield* makeLimiter(config.authRateLimitPerMinute, Duration.minutes(1)),
      /** RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW seconds. */
      api: yield* makeLimiter(config.rateLimitRequests, Duration.seconds(config.rateLimitWindowSeconds))
    } as const
  })
}) {}

/** `X-RateLimit-Limit`, `-Remaining`, `-Reset` (seconds), and `Retry-After` when refused. */
export const rateLimitHeaders = (decision: RateLimitDecision): Record<string, string> => ({
  "x-ratelimit-limit": String(decision.limit),
  "x-ratelimit-remaining": String(decision.remaining),
  "x-ratelimit-reset": String(decision.resetSeconds),
  ...(decision.allowed ? {} : { "retry-after": String(decision.resetSeconds) })
})

/** Puts the decision's headers on whatever response this request ends with, errors included. */
export const withRateLimitHeaders = (decision: RateLimitDecision) =>
  HttpApp.appendPreResponseHandler((_request, response) =>
    Effect.succeed(HttpServerResponse.setHeaders(response, rateLimitHeaders(decision)))
  )
