import { Duration, Option, Schema } from "effect"

/*
 * What an OpenRouter call can fail with. Messages name the endpoint, the status and OpenRouter's own message
 * (scrubbed of anything key-like); they never carry the key.
 */

const base = {
  message: Schema.String,
  /** The endpoint called, e.g. `/key`. */
  endpoint: Schema.String
}
const retryAfterMs = Schema.optional(Schema.Number)

/** 401: the key is invalid, disabled or deleted. */
export class OpenRouterUnauthorized extends Schema.TaggedError<OpenRouterUnauthorized>()(
  "OpenRouterUnauthorized",
  base
) {}

/** 402: out of credits, or over the key's cap. */
export class OpenRouterPaymentRequired extends Schema.TaggedError<OpenRouterPaymentRequired>()(
  "OpenRouterPaymentRequired",
  base
) {}

/** 403: e.g. a management-only endpoint called with an inference key. */
export class OpenRouterForbidden extends Schema.TaggedError<OpenRouterForbidden>()("OpenRouterForbidden", base) {}

/** 429; `retryAfterMs` from `Retry-After` when OpenRouter sent one. */
export class OpenRouterRateLimited extends Schema.TaggedError<OpenRouterRateLimited>()("OpenRouterRateLimited", {
  ...base,
  retryAfterMs
}) {}

/** 5xx (and any other unexpected status); `retryAfterMs` from `Retry-After` when sent (503). */
export class OpenRouterUnavailable extends Schema.TaggedError<OpenRouterUnavailable>()("OpenRouterUnavailable", {
  ...base,
  status: Schema.Number,
  retryAfterMs
}) {}

/** No usable response: timeout, refused or reset connection. */
export class OpenRouterTransportError extends Schema.TaggedError<OpenRouterTransportError>()(
  "OpenRouterTransportError",
  { ...base, reason: Schema.Literal("Timeout", "Transport") }
) {}

/** A response that is not the JSON we expect: malformed, truncated, or missing required fields. */
export class OpenRouterDecodeError extends Schema.TaggedError<OpenRouterDecodeError>()("OpenRouterDecodeError", base) {}

/** Every failure of the OpenRouter client. */
export type OpenRouterError =
  | OpenRouterUnauthorized
  | OpenRouterPaymentRequired
  | OpenRouterForbidden
  | OpenRouterRateLimited
  | OpenRouterUnavailable
  | OpenRouterTransportError
  | OpenRouterDecodeError

/** Whether trying again later may succeed: 429, 5xx, transport and decode failures; never 401/402/403. */
export const isRetryable = (error: OpenRouterError): boolean => {
  switch (error._tag) {
    case "OpenRouterRateLimited":
    case "OpenRouterUnavailable":
    case "OpenRouterTransportError":
    case "OpenRouterDecodeError":
      return true
    case "OpenRouterUnauthorized":
    case "OpenRouterPaymentRequired":
    case "OpenRouterForbidden":
      return false
  }
}

/** The wait OpenRouter asked for (`Retry-After`), when it did. */
export const retryAfter = (error: OpenRouterError): Option.Option<Duration.Duration> =>
  (error._tag === "OpenRouterRateLimited" || error._tag === "OpenRouterUnavailable") && error.retryAfterMs !== undefined
    ? Option.some(Duration.millis(error.retryAfterMs))
    : Option.none()
