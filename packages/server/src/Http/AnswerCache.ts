import * as NodeCrypto from "node:crypto"
import type * as NodeHttp from "node:http"
import type { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Option, Runtime } from "effect"
import { AppConfig, validateHost } from "../Config.js"
import { EventStore } from "../EventStore.js"
import * as Metrics from "../Metrics.js"
import * as TokenUse from "../SideTables/TokenUse.js"
import { SqliteHandle } from "../SqliteClient.js"
import { type Encoding, encodeFor } from "./Compression.js"
import { RateLimits, rateLimitHeaders } from "./RateLimit.js"
import { routePath } from "./Routes.js"

/** The public API's reads whose answers are kept: what dashboards and scripts poll. */
const CACHED_PATHS = new Set(["/api/v1/stats", "/api/v1/usage", "/api/v1/keys"])

/** Answers kept (least recently used go first); a year's /stats answer is ~5 KB. */
const CAPACITY = 512

/** Bytes kept at most, bodies and their compressed forms together; answers go least recently used first. */
const BUDGET_BYTES = 16 * 1024 * 1024

/** A larger answer (a page of 1,000 rows) is not kept: it is asked for rarely and would crowd out the rest. */
const MAX_BODY_BYTES = 256 * 1024

/** The headers a kept answer is sent without: made per request (rate limit) or by the edge (its own). */
const PER_REQUEST = new Set(["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"])

/** A 200 of the public API as the router made it, at a log head, for one token. */
interface Answer {
  /** The log head before the request that made it: the answer holds while the head has not moved. */
  readonly head: number
  readonly tokenId: string
  /** Until then the token's last use needs no write (`token_usage` is written once per resolution). */
  readonly touchedUntil: number
  readonly headers: Readonly<Record<string, string>>
  readonly contentType: string
  readonly body: Uint8Array
  /** The body compressed, per encoding, once asked for. */
  readonly encoded: Map<Encoding, Uint8Array>
}

/** Where an answer to a request would be kept, and the head it was read at. */
export interface Slot {
  readonly key: string
  readonly head: number
}

/** What the edge does for every answer (security headers, request id, metrics, access log), given to the cache. */
export interface EdgeFinish {
  readonly headers: (path: string, cacheControl: string | undefined, requestId: string) => Record<string, string>
  readonly record: (
    method: string,
    path: string,
    status: number,
    elapsedMs: number,
    clientIp: string,
    requestId: string
  ) => Effect.Effect<void>
  readonly clientIp: (forwardedFor: string | undefined, remoteAddress: string | undefined) => string
}

/**
 * The same request answered again without the router: `GET /api/v1/stats|usage|keys` with a token, when
 * the log has not moved since the router answered it (SQLite only, as ReadCache). The key is a hash of the
 * method, the URL as sent, `Authorization`, `Accept` and the UTC date (a usage answer depends on today): the
 * same request of the same token, nothing parsed a second time. The answer proves the token was valid at
 * that head, and a revocation (or a deleted user) moves the head.
 *
 * What still happens per request, as on the router: the Host check, the token's rate limit (a refusal goes
 * on to the router, which refuses it the usual way: a refusal counts nothing), its last use written once per
 * resolution (when one is due the router answers and writes it), compression as Accept-Encoding asks, the
 * edge's headers, the request metric and the access log line. Body and headers are those the router sent.
 */
export class AnswerCache extends Effect.Service<AnswerCache>()("orw/Http/AnswerCache", {
  effect: Effect.gen(function* () {
    const handle = yield* Effect.serviceOption(SqliteHandle)
    const store = yield* EventStore
    const limits = yield* RateLimits
    const { allowedHosts } = yield* AppConfig
    const answers = new Map<string, Answer>()
    const enabled = Option.isSome(handle)
    let bytes = 0

    const sizeOf = (answer: Answer) => {
      let size = answer.body.byteLength
      for (const encoded of answer.encoded.values()) size += encoded.byteLength
      return size
    }
    const drop = (key: string) => {
      const answer = answers.get(key)
      if (answer === undefined) return
      answers.delete(key)
      bytes -= sizeOf(answer)
    }
    /** Least recently used first, until both bounds hold. */
    const trim = () => {
      while (answers.size > CAPACITY || bytes > BUDGET_BYTES) {
        const oldest = answers.keys().next()
        if (oldest.done === true) return
        drop(oldest.value)
      }
    }

    const keyOf = (method: string, url: string, authorization: string, accept: string | undefined, now: number) =>
      NodeCrypto.createHash("sha256")
        .update(`${method}\n${url}\n${authorization}\n${accept ?? ""}\n${new Date(now).toISOString().slice(0, 10)}`)
        .digest("base64url")

    const candidate = (method: string, url: string, authorization: string | undefined) =>
      enabled && method === "GET" && authorization !== undefined && CACHED_PATHS.has(routePath(url))

    /** Where the router's answer to `request` would be kept; none for a request not cached. */
    const slot = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Slot | undefined> => {
      const { authorization, accept } = request.headers
      if (!candidate(request.method, request.url, authorization) || authorization === undefined) {
        return Effect.succeed(undefined)
      }
      return Effect.map(store.head, (head) => ({
        key: keyOf(request.method, request.url, authorization, accept, Date.now()),
        head
      }))
    }

    /** Keeps the router's answer to the request of `slot` (a 200 in memory, of an authenticated token). */
    const keep = (slot: Slot, response: HttpServerResponse.HttpServerResponse, tokenId: string | undefined) =>
      Effect.gen(function* () {
        const body = response.body
        if (response.status !== 200 || body._tag !== "Uint8Array" || tokenId === undefined) return
        // JSON only (never a CSV export: every row of a range), and not the largest pages.
        if (!body.contentType.startsWith("application/json") || body.body.byteLength > MAX_BODY_BYTES) return
        const used = (yield* TokenUse.lastUsed([tokenId])).get(tokenId)
        if (used === undefined) return
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(response.headers)) if (!PER_REQUEST.has(name)) headers[name] = value
        drop(slot.key)
        answers.set(slot.key, {
          head: slot.head,
          tokenId,
          touchedUntil: Date.parse(used) + TokenUse.LAST_USED_MILLIS,
          headers,
          contentType: body.contentType,
          body: body.body,
          encoded: new Map()
        })
        bytes += body.body.byteLength
        trim()
      })

    /**
     * The Node-level answerer (see {@link LifecycleState.probe}): answers a kept request and returns true,
     * or returns false and leaves the request to the app. Effects (rate limit, metric, log) run on `runtime`.
     */
    const answerer = (runtime: Runtime.Runtime<never>, edge: EdgeFinish) => {
      const runSync = Runtime.runSync(runtime)
      const head = Option.match(handle, {
        onNone: () => () => -1,
        onSome: ({ db, prepare }) => {
          const statement = () => prepare("SELECT MAX(position) AS head FROM events")
          // Read only between transactions: inside one (another fiber's, open between its statements) the head
          // is that transaction's, its uncommitted events included and other processes' commits since it began
          // left out. Nor while the connection is busy elsewhere (a statement iterating): then the router answers.
          return () => {
            if (db.inTransaction) return -1
            try {
              return Number((statement().get() as { head: number | null } | undefined)?.head ?? 0)
            } catch {
              return -1
            }
          }
        }
      })
      const tryAnswer = (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse): boolean => {
        const started = performance.now()
        const method = request.method ?? ""
        const url = request.url ?? ""
        const { authorization, accept } = request.headers
        if (!candidate(method, url, authorization) || authorization === undefined) return false
        if (request.headers["content-length"] !== undefined || request.headers["transfer-encoding"] !== undefined) {
          return false
        }
        if (!validateHost(request.headers.host, allowedHosts)) return false
        const now = Date.now()
        const key = keyOf(method, url, authorization, accept, now)
        const answer = answers.get(key)
        if (answer === undefined) return false
        const current = head()
        if (current === -1) return false
        // Kept at an older head, or its last use is due to be written: the router answers (and keeps anew).
        if (answer.head !== current || answer.touchedUntil <= now) {
          drop(key)
          return false
        }
        const decision = runSync(limits.api(`token:${answer.tokenId}`))
        if (!decision.allowed) return false
        answers.delete(key)
        answers.set(key, answer)

        const path = routePath(url)
        const requestId = NodeCrypto.randomUUID()
        const encoding = encodeFor(
          answer.contentType,
          answer.body.byteLength,
          answer.headers,
          request.headers["accept-encoding"]
        )
        let body = answer.body
        const headers: Record<string, string> = { ...answer.headers, ...rateLimitHeaders(decision) }
        if (encoding !== undefined) {
          headers.vary = encoding.vary
          if (encoding.encoding !== undefined) {
            const known = answer.encoded.get(encoding.encoding)
            body = known ?? encoding.compress(answer.body)
            if (known === undefined) {
              answer.encoded.set(encoding.encoding, body)
              bytes += body.byteLength
              trim()
            }
            headers["content-encoding"] = encoding.encoding
          }
        }
        Object.assign(headers, edge.headers(path, headers["cache-control"], requestId), {
          "content-type": answer.contentType,
          "content-length": String(body.byteLength)
        })
        request.resume()
        response.writeHead(200, headers)
        response.end(body)
        const clientIp = edge.clientIp(
          request.headers["x-forwarded-for"] as string | undefined,
          request.socket.remoteAddress
        )
        runSync(
          Effect.zipRight(
            edge.record(method, path, 200, Math.round(performance.now() - started), clientIp, requestId),
            Metrics.recordCachedAnswer(path)
          )
        )
        return true
      }
      // Nothing thrown here may reach the Node listener (it would end the process): before the answer is
      // written the router answers instead; after it, the request has had its answer.
      return (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse): boolean => {
        try {
          return tryAnswer(request, response)
        } catch {
          return response.headersSent
        }
      }
    }

    return { slot, keep, answerer, enabled } as const
  })
}) {}
