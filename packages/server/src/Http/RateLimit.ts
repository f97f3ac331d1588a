import { HttpApp, HttpServerResponse } from "@effect/platform"
import { Clock, Duration, Effect } from "effect"
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
 * `limit` requests pass in it; a refusal counts nothing. Windows live in a Map in least recently used order,
 * so memory stays bounded by {@link CAPACITY} (an expired window is simply opened anew). The time is the
 * Clock's (a test moves it with TestClock).
 */
export const makeLimiter = (limit: number, window: Duration.Duration) =>
  Effect.sync(() => {
    const windowMs = Duration.toMillis(window)
    const windows = new Map<string, { readonly resetAt: number; used: number }>()
    const take = (key: string, now: number): RateLimitDecision => {
      let found = windows.get(key)
      if (found === undefined || found.resetAt <= now) found = { resetAt: now + windowMs, used: 0 }
      windows.delete(key)
      windows.set(key, found)
      if (windows.size > CAPACITY) windows.delete(windows.keys().next().value as string)
      const allowed = found.used < limit
      if (allowed) found.used++
      return {
        allowed,
        limit,
        remaining: Math.max(0, limit - found.used),
        resetSeconds: Math.max(1, Math.ceil((found.resetAt - now) / 1000))
      }
    }
    const limiter: Limiter = (key) => Effect.map(Clock.currentTimeMillis, (now) => take(key, now))
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
