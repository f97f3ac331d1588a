import * as NodeDns from "node:dns/promises"
import { SqlClient } from "@effect/sql"
import { isPrivateHost } from "@orw/domain"
import { Clock, Duration, Effect, Option, PubSub, Random, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { KeyVault } from "../Crypto/KeyVault.js"
import * as Webhooks from "../Projections/Webhooks.js"
import * as Deliveries from "../SideTables/Deliveries.js"
import { ATTEMPT_TIMEOUT, GIVE_UP_AFTER, retryDelay } from "./Backoff.js"
import { signature } from "./Payload.js"
import { Wake } from "./Wake.js"

/** What one attempt did, published for /metrics, tests and the demo. */
export interface AttemptResult {
  readonly deliveryId: string
  readonly attempt: number
  readonly at: number
  readonly status: Deliveries.DeliveryStatus
  readonly statusCode: number | null
  readonly error: string | null
  readonly nextAttemptAt: number | null
}

/** An attempt holds its delivery this long; after a crash mid-attempt it is due again then. */
const LEASE = Duration.minutes(1)
const POLL = Duration.seconds(5)
const CONCURRENCY = 4

type Response = { readonly statusCode: number } | { readonly error: string }

/**
 * Sends due deliveries: one POST each, signed with the webhook's secret (opened from the KeyVault for the
 * attempt only). A 2xx is delivered; anything else, a 10 s timeout or a refused connection is retried with
 * exponential backoff and jitter until 24 h after the delivery was created, then `failed`. Each attempt
 * first takes the delivery (a lease in the table), so two workers never send it at once, and a delivered
 * one is never sent again.
 */
export class DeliveryWorker extends Effect.Service<DeliveryWorker>()("orw/Webhooks/DeliveryWorker", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const vault = yield* KeyVault
    const config = yield* AppConfig
    const wake = yield* Wake
    const results = yield* Effect.acquireRelease(PubSub.unbounded<AttemptResult>(), PubSub.shutdown)
    const allowPrivate = !config.production || config.webhookAllowPrivate

    /** In production, a name that resolves to a private address is refused at send time too (DNS rebinding). */
    const refusedTarget = (url: URL) =>
      allowPrivate
        ? Effect.succeed(false)
        : Effect.promise(() => NodeDns.lookup(url.hostname, { all: true }).catch(() => [])).pipe(
            Effect.map((addresses) => isPrivateHost(url.hostname) || addresses.some((a) => isPrivateHost(a.address)))
          )

    const post = (url: string, body: string, headers: Record<string, string>): Effect.Effect<Response> =>
      Effect.tryPromise({
        try: (signal) => fetch(url, { method: "POST", body, headers, redirect: "manual", signal }),
        catch: (error) => error
      }).pipe(
        Effect.tap((response) => Effect.promise(() => response.body?.cancel() ?? Promise.resolve())),
        Effect.map((response): Response => ({ statusCode: response.status })),
        Effect.timeoutFail({ duration: ATTEMPT_TIMEOUT, onTimeout: () => "timeout" as const }),
        Effect.catchAll((error) =>
          Effect.succeed<Response>({
            error:
              error === "timeout"
                ? `timed out after ${Duration.format(ATTEMPT_TIMEOUT)}`
                : `connection failed: ${causeText(error)}`
          })
        )
      )

    const attempt = (d: Deliveries.DeliveryRecord) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        if (d.next_attempt_at === null) return
        if (!(yield* Deliveries.claim(d.id, d.next_attempt_at, now + Duration.toMillis(LEASE)))) return
        const hook = yield* Webhooks.byId(d.webhook_id)
        let response: Response
        if (Option.isNone(hook)) response = { error: "webhook deleted" }
        else {
          const secret = yield* Effect.either(vault.open(hook.value.id, hook.value.userId, hook.value.ciphertext))
          const url = new URL(hook.value.url)
          if (secret._tag === "Left") response = { error: "webhook secret destroyed" }
          else if (yield* refusedTarget(url)) response = { error: "refused: the host is loopback or private" }
          else {
            const t = Math.floor(now / 1000)
            response = yield* post(url.href, d.body, {
              "content-type": "application/json",
              "user-agent": "openrouter-watcher",
              "x-orw-delivery": d.id,
              "x-orw-event": d.event_type,
              "x-orw-signature": signature(Redacted.value(secret.right), t, d.body)
            })
          }
        }
        const done = yield* Clock.currentTimeMillis
        const statusCode = "statusCode" in response ? response.statusCode : null
        const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300
        const permanent = "error" in response && response.error.startsWith("webhook")
        const expired = done - d.created_at >= Duration.toMillis(GIVE_UP_AFTER)
        const status: Deliveries.DeliveryStatus = delivered ? "delivered" : permanent || expired ? "failed" : "pending"
        const nextAttemptAt =
          status === "pending" ? done + Duration.toMillis(retryDelay(d.attempts + 1, yield* Random.next)) : null
        const error = delivered ? null : "error" in response ? response.error : `HTTP ${statusCode}`
        yield* Deliveries.record(d.id, { status, statusCode, error, nextAttemptAt, now: done })
        // Never the URL (it may carry the receiver's token) nor the secret: the delivery id says which.
        yield* (
          status === "delivered"
            ? Effect.logInfo("Webhook delivered")
            : Effect.logWarning(
                status === "failed" ? "Webhook delivery failed for good" : "Webhook delivery failed, will retry"
              )
        ).pipe(Effect.annotateLogs({ deliveryId: d.id, attempt: d.attempts + 1, error: error ?? "" }))
        yield* PubSub.publish(results, {
          deliveryId: d.id,
          attempt: d.attempts + 1,
          at: done,
          status,
          statusCode,
          error,
          nextAttemptAt
        })
      }).pipe(Effect.withSpan("DeliveryWorker.attempt", { attributes: { deliveryId: d.id } }))

    /** Sends every delivery due now. */
    const runDue = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const due = yield* Deliveries.due(now, 50)
      yield* Effect.forEach(due, attempt, { concurrency: CONCURRENCY, discard: true })
      return due.length
    }).pipe(Effect.provideService(SqlClient.SqlClient, sql))

    /** Sends due deliveries, then sleeps until the next one is due (at most 5 s) or new ones arrive. */
    const run = Effect.gen(function* () {
      while (true) {
        yield* runDue.pipe(Effect.catchAllCause((cause) => Effect.logError("Webhook delivery failed", cause)))
        const next = yield* Effect.provideService(Deliveries.nextDue, SqlClient.SqlClient, sql)
        const now = yield* Clock.currentTimeMillis
        const wait = next === null ? POLL : Duration.min(POLL, Duration.millis(Math.max(0, next - now)))
        yield* wake.waitForDeliveries(wait)
      }
    })

    return { runDue, run, results: PubSub.subscribe(results) } as const
  })
}) {}

/** A refused connection or a DNS failure, without the URL's query (it may carry a token of the receiver's). */
const causeText = (error: unknown): string => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  return code ?? (cause instanceof Error ? cause.name : "unknown error")
}
