import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import { Clock, Duration, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import { ErrorEnvelope } from "./Schemas.js"

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

/** The error for a non-2xx response; OpenRouter's envelope only feeds the message. */
export const fromStatus = (
  endpoint: string,
  response: HttpClientResponse.HttpClientResponse,
  text: string,
  key: Redacted.Redacted<string>,
  method = "GET"
) =>
  Effect.gen(function* () {
    const status = response.status
    const said = Option.match(Schema.decodeUnknownOption(Schema.parseJson(ErrorEnvelope))(text), {
      onNone: () => "",
      onSome: (envelope) => `: ${envelope.error.message.slice(0, 300)}`
    })
    const message = scrub(`${method} ${endpoint}: HTTP ${status}${said}`, key)
    const retryAfterMs = yield* parseRetryAfter(response.headers["retry-after"])
    const retry = retryAfterMs === undefined ? {} : { retryAfterMs }
    switch (status) {
      case 401:
        return new OpenRouterUnauthorized({ endpoint, message })
      case 402:
        return new OpenRouterPaymentRequired({ endpoint, message })
      case 403:
        return new OpenRouterForbidden({ endpoint, message })
      case 429:
        return new OpenRouterRateLimited({ endpoint, message, ...retry })
      default:
        // 5xx, and statuses OpenRouter does not document for these endpoints.
        return new OpenRouterUnavailable({ endpoint, message, status, ...retry })
    }
  })

/** `Retry-After` as milliseconds: delta-seconds, or an HTTP date. */
const parseRetryAfter = (value: string | undefined) =>
  Effect.gen(function* () {
    if (value === undefined || value.trim() === "") return undefined
    const trimmed = value.trim()
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
    const at = Date.parse(trimmed)
    if (Number.isNaN(at)) return undefined
    return Math.max(0, at - (yield* Clock.currentTimeMillis))
  })

/** The error for an `HttpClientError`: no usable response. */
export const fromHttpClientError = (
  endpoint: string,
  error: HttpClientError.HttpClientError,
  key: Redacted.Redacted<string>,
  method = "GET"
): OpenRouterTransportError | OpenRouterDecodeError => {
  const detail = [error.description, ...causes(error.cause)].filter((s) => s !== undefined && s !== "").join(": ")
  const message = scrub(`${method} ${endpoint}: ${error.reason} error${detail === "" ? "" : `: ${detail}`}`, key)
  return error._tag === "ResponseError" && error.reason !== "Decode"
    ? new OpenRouterDecodeError({ endpoint, message })
    : new OpenRouterTransportError({ endpoint, reason: "Transport", message })
}

/** The error for a body that does not match its schema: one line per issue, with its path. */
export const fromParseError = (
  endpoint: string,
  error: ParseResult.ParseError,
  key: Redacted.Redacted<string>,
  method = "GET"
): OpenRouterDecodeError => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`)
  return new OpenRouterDecodeError({
    endpoint,
    message: scrub(`${method} ${endpoint}: unexpected response: ${issues.join("; ")}`, key)
  })
}

/** The messages (and codes) of an error's cause chain, e.g. `fetch failed`, `other side closed`. */
const causes = (cause: unknown, depth = 0): Array<string> => {
  if (depth > 3 || typeof cause !== "object" || cause === null) return []
  const message = "message" in cause && typeof cause.message === "string" ? cause.message : undefined
  const code = "code" in cause && typeof cause.code === "string" ? cause.code : undefined
  const here = code !== undefined && message?.includes(code) !== true ? `${message ?? ""} (${code})` : message
  return [...(here === undefined ? [] : [here]), ...causes("cause" in cause ? cause.cause : undefined, depth + 1)]
}

const KEY_LIKE = /sk-or-v1-([0-9a-f]{3})[0-9a-f]*([0-9a-f]{3})|sk-or-[\w-]{6,}/gi

/** Removes the key, and anything key-like, from a message; key-shaped strings become their label. */
export const scrub = (text: string, key: Redacted.Redacted<string>): string => {
  const raw = Redacted.value(key)
  const withoutKey = raw.length >= 6 ? text.split(raw).join("[redacted key]") : text
  return withoutKey.replace(KEY_LIKE, (_, first?: string, last?: string) =>
    first !== undefined && last !== undefined ? `sk-or-v1-${first}...${last}` : "[redacted key]"
  )
}
