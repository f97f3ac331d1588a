import { Duration, Effect, Option, Schedule } from "effect"
import type { OpenRouterError } from "./Errors.js"
import { isRetryable, retryAfter } from "./Errors.js"
import { SyncSettings } from "./SyncSettings.js"

/**
 * Retries an upstream call: 429/503 wait `Retry-After` when given (never less), other
 * transient failures back off exponentially with jitter; 401/402/403 are not retried.
 */
export const withUpstreamRetry = <A, E extends OpenRouterError, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(SyncSettings, (settings) =>
    Effect.retry(effect, {
      while: (error: E) => isRetryable(error),
      schedule: Schedule.exponential(settings.retryBase, 2).pipe(
        Schedule.jittered,
        Schedule.intersect(Schedule.recurs(settings.retries)),
        Schedule.intersect(Schedule.identity<E>()),
        Schedule.modifyDelay(([, error], delay) =>
          Option.match(retryAfter(error), {
            onNone: () => delay,
            onSome: (wait) => Duration.max(wait, delay)
          })
        )
      )
    })
  )
