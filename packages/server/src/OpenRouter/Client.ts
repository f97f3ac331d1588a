import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Config, Duration, Effect, Layer, Schema } from "effect"
import type * as Redacted from "effect/Redacted"
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

/** Overrides of the `OPENROUTER_API_URL` / `OPENROUTER_TIMEOUT` config, e.g. in tests. */
export interface OpenRouterClientOptions {
  readonly baseUrl?: string
  /** Per request, body included. Default 15 seconds. */
  readonly timeout?: Duration.DurationInput
}

/** Options of {@link OpenRouterClient.listKeys}. */
export interface ListKeysOptions {
  readonly offset?: number
  readonly includeDisabled?: boolean
}

/** OpenRouter pages `GET /keys` by 100. */
export const KEYS_PAGE_SIZE = 100
const MAX_PAGES = 1_000

const make = (options: OpenRouterClientOptions = {}) =>
  Effect.gen(function* () {
    const baseUrl = (
      options.baseUrl ??
      (yield* Config.string("OPENROUTER_API_URL").pipe(Config.withDefault("https://openrouter.ai/api/v1")))
    ).replace(/\/+$/, "")
    const timeout =
      options.timeout === undefined
        ? yield* Config.duration("OPENROUTER_TIMEOUT").pipe(Config.withDefault(Duration.seconds(15)))
        : Duration.decode(options.timeout)
    const client = yield* HttpClient.HttpClient

    const call = <A, I>(
      endpoint: string,
      key: Redacted.Redacted<string>,
      schema: Schema.Schema<A, I>,
      urlParams: Record<string, string> = {}
    ): Effect.Effect<A, OpenRouterError> =>
      Effect.gen(function* () {
        // The key leaves its Redacted only inside this request's Authorization header.
        const request = HttpClientRequest.get(`${baseUrl}${endpoint}`, { urlParams, acceptJson: true }).pipe(
          HttpClientRequest.bearerToken(key)
        )
        const response = yield* client.execute(request)
        const text = yield* response.text
        if (response.status < 200 || response.status >= 300) {
          return yield* Effect.fail(yield* fromStatus(endpoint, response, text, key))
        }
        const json = yield* Effect.try({
          try: (): unknown => JSON.parse(text),
          catch: () => new OpenRouterDecodeError({ endpoint, message: `GET ${endpoint}: response is not valid JSON` })
        })
        return yield* Schema.decodeUnknown(schema)(json, { errors: "all" }).pipe(
          Effect.mapError((error) => fromParseError(endpoint, error, key))
        )
      }).pipe(
        Effect.catchTag("RequestError", "ResponseError", (error) =>
          Effect.fail(fromHttpClientError(endpoint, error, key))
        ),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new OpenRouterTransportError({
              endpoint,
              reason: "Timeout",
              message: `GET ${endpoint}: no response within ${Duration.format(timeout)}`
            })
        })
      )

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

    return { getKey, listKeys, listAllKeys, getActivity, getCredits } as const
  })

/**
 * OpenRouter's API for the sync: `GET /key`, `/keys`, `/activity`, `/credits`. Needs an `HttpClient`
 * (`FetchHttpClient.layer` or a Node one). Never retries: see `isRetryable` and `retryAfter`.
 */
export class OpenRouterClient extends Effect.Service<OpenRouterClient>()("orw/OpenRouterClient", {
  effect: make
}) {
  /** A client whose methods die loudly unless stubbed. */
  static readonly Test = (stubs: Partial<Omit<OpenRouterClient, "_tag">>): Layer.Layer<OpenRouterClient> =>
    Layer.succeed(
      OpenRouterClient,
      OpenRouterClient.make({
        getKey: () => Effect.die("OpenRouterClient.getKey is not stubbed"),
        listKeys: () => Effect.die("OpenRouterClient.listKeys is not stubbed"),
        listAllKeys: () => Effect.die("OpenRouterClient.listAllKeys is not stubbed"),
        getActivity: () => Effect.die("OpenRouterClient.getActivity is not stubbed"),
        getCredits: () => Effect.die("OpenRouterClient.getCredits is not stubbed"),
        ...stubs
      })
    )
}
