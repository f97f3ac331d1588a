import { describe, expect, it } from "@effect/vitest"
import { UserCommands, UserId } from "@orw/domain"
import { DateTime, Duration, Effect, Layer, Queue, TestClock } from "effect"
import { startReceiver } from "../../../../tests/support/receiver.js"
import { WebhooksService } from "../../src/App/Webhooks.js"
import { AppConfig } from "../../src/Config.js"
import * as Core from "../../src/Core.js"
import { KeyVault } from "../../src/Crypto/KeyVault.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { FIRST_DELAY, GIVE_UP_AFTER, MAX_DELAY, retryDelay } from "../../src/Webhooks/Backoff.js"
import { DeliveryWorker } from "../../src/Webhooks/Delivery.js"
import { Wake } from "../../src/Webhooks/Wake.js"

const layer = Layer.mergeAll(WebhooksService.Default, DeliveryWorker.Default).pipe(
  Layer.provideMerge(Layer.mergeAll(Wake.Default, KeyVault.Default)),
  Layer.provideMerge(Core.layerFile(":memory:")),
  Layer.provide(AppConfig.layerTest())
)

const metadata = { actor: null, source: "cli" as const, correlationId: "t", causationId: null, requestId: null }
const origin = { source: "web" as const, correlationId: "t", requestId: null }

describe("retryDelay", () => {
  it("first retry within 4 s, doubling, capped at 10 minutes, jittered within [base/2, base]", () => {
    expect(Duration.toMillis(retryDelay(1, 0))).toBe(2_000)
    expect(Duration.toMillis(retryDelay(1, 0.999))).toBeLessThanOrEqual(Duration.toMillis(FIRST_DELAY))
    expect(Duration.toMillis(retryDelay(2, 0))).toBe(4_000)
    expect(Duration.toMillis(retryDelay(30, 0.999))).toBeLessThanOrEqual(Duration.toMillis(MAX_DELAY))
    expect(Duration.toMillis(retryDelay(30, 0))).toBe(Duration.toMillis(MAX_DELAY) / 2)
  })
})

describe("DeliveryWorker under TestClock", () => {
  it.scoped(
    "a receiver that always fails: retried with growing, capped, jittered waits, given up after 24 h",
    () =>
      Effect.gen(function* () {
        const receiver = yield* Effect.acquireRelease(
          Effect.promise(() => startReceiver([500])),
          (r) => Effect.promise(r.close)
        )
        const userId = UserId.make("u-timeline")
        const dispatcher = yield* Dispatcher
        const at = yield* DateTime.now
        yield* dispatcher
          .dispatch(new UserCommands.RegisterUser({ userId, email: "t@example.com", passwordHash: "h", at }), {
            metadata
          })
          .pipe(Effect.orDie)
        const webhooks = yield* WebhooksService
        const hook = yield* webhooks.create(userId, { url: receiver.url, format: "generic" }, origin).pipe(Effect.orDie)
        const worker = yield* DeliveryWorker
        const results = yield* worker.results
        const { delivery_id } = yield* webhooks.test(userId, hook.id).pipe(Effect.orDie)
        // The worker's own loop sleeps until the next due time; here each step is driven by the test clock.
        yield* worker.runDue

        const timeline: Array<{ attempt: number; at: number; status: string; error: string | null }> = []
        let due: number | null = null
        while (true) {
          const r = yield* Queue.take(results)
          timeline.push({ attempt: r.attempt, at: r.at, status: r.status, error: r.error })
          if (r.status !== "pending" || r.nextAttemptAt === null) break
          // Not a millisecond before its due time, and then at once.
          if (due !== null) expect(r.at).toBe(due)
          due = r.nextAttemptAt
          yield* TestClock.setTime(r.nextAttemptAt - 1)
          expect(yield* worker.runDue).toBe(0)
          yield* TestClock.setTime(r.nextAttemptAt)
          expect(yield* worker.runDue).toBe(1)
        }

        const gaps = timeline.slice(1).map((t, i) => t.at - timeline[i]!.at)
        expect(gaps[0]).toBeLessThanOrEqual(5_000)
        expect(Math.max(...gaps)).toBeLessThanOrEqual(Duration.toMillis(MAX_DELAY))
        expect(gaps.slice(0, 6).every((g, i) => i === 0 || g > gaps[i - 1]! / 2)).toBe(true)
        const last = timeline.at(-1)!
        expect(last.status).toBe("failed")
        expect(last.at).toBeGreaterThanOrEqual(Duration.toMillis(GIVE_UP_AFTER))
        expect(timeline.at(-2)!.at).toBeLessThan(Duration.toMillis(GIVE_UP_AFTER))
        // Every attempt reached the receiver under the same delivery id.
        expect(receiver.received).toHaveLength(timeline.length)
        expect(new Set(receiver.received.map((r) => r.headers["x-orw-delivery"]))).toEqual(new Set([delivery_id]))
        const row = (yield* webhooks.deliveries(userId, hook.id).pipe(Effect.orDie)).items[0]!
        expect(row).toMatchObject({ status: "failed", attempts: timeline.length, last_error: "HTTP 500" })

        const clock = (ms: number) => {
          const s = Math.round(ms / 1000)
          return `+${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
        }
        const shown = [
          ...timeline.slice(0, 12),
          { attempt: 0, at: 0, status: "...", error: null },
          ...timeline.slice(-3)
        ]
        console.log(
          [
            `--- retry timeline of a receiver that always answers 500 (TestClock; delivery ${delivery_id}) ---`,
            ...shown.map((t, i) =>
              t.status === "..."
                ? `   ... ${timeline.length - 15} more attempts, 10 minutes apart at most ...`
                : `attempt ${String(t.attempt).padStart(3)} at ${clock(t.at)}  ${t.status.padEnd(7)} ${t.error ?? ""}` +
                  (i > 0 && shown[i - 1]!.status !== "..."
                    ? `  (waited ${((t.at - shown[i - 1]!.at) / 1000).toFixed(1)} s)`
                    : "")
            )
          ].join("\n")
        )
      }).pipe(Effect.provide(layer)),
    120_000
  )
})
