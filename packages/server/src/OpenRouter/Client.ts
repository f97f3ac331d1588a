import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Cause, Clock, Duration, Effect, Exit, Option, Schema } from "effect"
import type * as Redacted from "effect/Redacted"
import { AppConfig } from "../Config.js"
import * as Metrics from "../Metrics.js"
import { type AnalyticsQuery, AnalyticsResponse } from "./Analytics/Schemas.js"
import type { OpenRouterError } from "./Errors.js"
import {
  fromHttpClientError,
  fromParseError,
  fromStatus,
  OpenRouterDecodeError,
  OpenRouterTransportError
} from "./Errors.js"
import { ActivityRow, Credits, Envelope, KeyInfo, KeyListItem } from "./Schemas.js"

export type { OpenRouterError } from "./Errors.js"
export {
  isRetryable,
  OpenRouterDecodeError,
  OpenRouterForbidden,
  OpenRouterPaymentRequired,
  OpenRouterRateLimited,
  OpenRouterTransportError,
  OpenRouterUnauthorized,
  OpenRouterUnavailable,
  retryAfter
} from "./Errors.js"

/** Options of {@link OpenRouterClient.listKeys}. */
export interface ListKeysOptions {
  readonly offset?: number
  readonly includeDisabled?: boolean
}

/** OpenRouter pages `GET /keys` by 100. */
export const KEYS_PAGE_SIZE = 100
const MAX_PAGES = 1_000

const make = Effect.gen(function* () {
  // OPENROUTER_API_URL and OPENROUTER_TIMEOUT (per request, body included) as AppConfig read them.
  const { openRouterApiUrl, openRouterTimeout: timeout } = yield* AppConfig
  const baseUrl = openRouterApiUrl.replace(/\/+$/, "")
  const client = yield* HttpClient.HttpClient

  /** Records the request's duration and outcome (`status` of the upstream's answer, else the failure). */
  const timed =
    (endpoint: string) =>
    <A>(effect: Effect.Effect<A, OpenRouterError>): Effect.Effect<A, OpenRouterError> =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(effect)
        const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
        const outcome = Exit.match(exit, {
          onSuccess: () => "200",
          onFailure: (cause) => {
            const failure = Cause.failureOption(cause)
            if (Option.isNone(failure)) return "interrupted"
            const error: OpenRouterError = failure.value
            switch (error._tag) {
              case "OpenRouterUnavailable":
                return String(error.status)
              case "OpenRouterTransportError":
                return error.reason.toLowerCase()
              default:
                return UPSTREAM_OUTCOME[error._tag]
            }
          }
        })
        yield* Metrics.recordUpstream(endpoint.split("?")[0] ?? endpoint, outcome, seconds)
        return yield* exit
      })

  const call = <A, I>(
    endpoint: string,
    key: Redacted.Redacted<string>,
    schema: Schema.Schema<A, I>,
    urlParams: Record<string, string> = {},
    write?: { readonly method: "POST" | "PATCH"; readonly body: unknown }
  ): Effect.Effect<A, OpenRouterError> => {
    const method = write?.method ?? "GET"
    return Effect.gen(function* () {
      // The key leaves its Redacted only inside this request's Authorization header.
      // Messages name the request's own method (a refused PATCH /keys/{hash} is not "GET").
      const base =
        write === undefined
          ? HttpClientRequest.get(`${baseUrl}${endpoint}`, { urlParams, acceptJson: true })
          : HttpClientRequest.make(write.method)(`${baseUrl}${endpoint}`, { acceptJson: true }).pipe(
              HttpClientRequest.bodyUnsafeJson(write.body)
            )
      const request = base.pipe(HttpClientRequest.bearerToken(key))
      const response = yield* client.execute(request)
      const text = yield* response.text
      if (response.status < 200 || response.status >= 300) {
        return yield* Effect.fail(yield* fromStatus(endpoint, response, text, key, method))
      }
      const json = yield* Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: () =>
          new OpenRouterDecodeError({ endpoint, message: `${method} ${endpoint}: response is not valid JSON` })
      })
      return yield* Schema.decodeUnknown(schema)(json, { errors: "all" }).pipe(
        Effect.mapError((error) => fromParseError(endpoint, error, key, method))
      )
    }).pipe(
      Effect.catchTag("RequestError", "ResponseError", (error) =>
        Effect.fail(fromHttpClientError(endpoint, error, key, method))
      ),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new OpenRouterTransportError({
            endpoint,
            reason: "Timeout",
            message: `${method} ${endpoint}: no response within ${Duration.format(timeout)}`
          })
      }),
      timed(endpoint)
    )
  }

  const getKey = Effect.fn("OpenRouterClient.getKey")(function* (key: Redacted.Redacted<string>) {
    return (yield* call("/key", key, Envelope(KeyInfo))).data
  })

  const listKeys = Effect.fn("OpenRouterClient.listKeys")(function* (
    mgmtKey: Redacted.Redacted<string>,
    options: ListKeysOptions = {}
  ) {
    const params: Record<string, string> = {}
    if (options.offset !== undefined && options.offset > 0) params.offset = String(options.offset)
    if (options.includeDisabled === true) params.include_disabled = "true"
    return (yield* call("/keys", mgmtKey, Envelope(Schema.Array(KeyListItem)), params)).data
  })

  const listAllKeys = Effect.fn("OpenRouterClient.listAllKeys")(function* (
    mgmtKey: Redacted.Redacted<string>,
    options: Omit<ListKeysOptions, "offset"> = {}
  ) {
    const all: Array<KeyListItem> = []
    for (let page = 0; page < MAX_PAGES; page++) {
      const items = yield* listKeys(mgmtKey, { ...options, offset: all.length })
      all.push(...items)
      if (items.length < KEYS_PAGE_SIZE) break
    }
    return all
  })

  const getActivity = Effect.fn("OpenRouterClient.getActivity")(function* (
    mgmtKey: Redacted.Redacted<string>,
    hash: string,
    date?: string
  ) {
    const params: Record<string, string> = { api_key_hash: hash }
    if (date !== undefined) params.date = date
    return (yield* call("/activity", mgmtKey, Envelope(Schema.Array(ActivityRow)), params)).data
  })

  const getCredits = Effect.fn("OpenRouterClient.getCredits")(function* (mgmtKey: Redacted.Redacted<string>) {
    return (yield* call("/credits", mgmtKey, Envelope(Credits))).data
  })

  /** `POST /analytics/query`: management key only; the caller paces it (AnalyticsLimiter). */
  const queryAnalytics = Effect.fn("OpenRouterClient.queryAnalytics")(function* (
    mgmtKey: Redacted.Redacted<string>,
    query: AnalyticsQuery
  ) {
    return yield* call("/analytics/query", mgmtKey, AnalyticsResponse, {}, { method: "POST", body: query })
  })

  /** `PATCH /keys/{hash}`: a key's limit and reset period; answers the key as `GET /keys` lists it. */
  const updateKey = Effect.fn("OpenRouterClient.updateKey")(function* (
    mgmtKey: Redacted.Redacted<string>,
    hash: string,
    change: { readonly limit: number | null; readonly limit_reset: string | null }
  ) {
    const path = `/keys/${encodeURIComponent(hash)}`
    return (yield* call(path, mgmtKey, Envelope(KeyListItem), {}, { method: "PATCH", body: change })).data
  })

  return { getKey, listKeys, listAllKeys, getActivity, getCredits, queryAnalytics, updateKey } as const
})

/**
 * OpenRouter's API for the sync: `GET /key`, `/keys`, `/activity`, `/credits`, at AppConfig's
 * OPENROUTER_API_URL over fetch. Never retries: see `isRetryable` and `retryAfter`.
 */
/** The `outcome` label of an upstream failure that carries no status of its own. */
const UPSTREAM_OUTCOME = {
  OpenRouterUnauthorized: "401",
  OpenRouterPaymentRequired: "402",
  OpenRouterForbidden: "403",
  OpenRouterRateLimited: "429",
  OpenRouterDecodeError: "invalid_response"
} as const

export class OpenRouterClient extends Effect.Service<OpenRouterClient>()("orw/OpenRouterClient", {
  effect: make,
  dependencies: [FetchHttpClient.layer]
}) {}
