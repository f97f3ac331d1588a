import { SqlClient } from "@effect/sql"
import { type AlertEvent, type DomainEvent, microsToUsd } from "@orw/domain"
import { DateTime, Duration, Effect, Option } from "effect"
import { EventBus } from "../EventBus.js"
import { EventStore } from "../EventStore.js"
import { alertRowOf } from "../Projections/Alerts.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import * as Webhooks from "../Projections/Webhooks.js"
import * as Deliveries from "../SideTables/Deliveries.js"
import { type AlertData, bodyOf, type DeliveryType, deliveryIdOf } from "./Payload.js"
import { Wake } from "./Wake.js"

export const OUTBOX = "webhook_outbox"
const BATCH = 200

const isAlert = (event: DomainEvent): event is AlertEvent =>
  event._tag === "BudgetThresholdCrossed" || event._tag === "BudgetForecastExceeded" || event._tag === "KeySpendSpiked"

const typeOf = (event: AlertEvent): DeliveryType =>
  event._tag === "BudgetThresholdCrossed"
    ? "alert.threshold"
    : event._tag === "BudgetForecastExceeded"
      ? "alert.forecast"
      : "alert.spike"

/**
 * The webhook outbox, driven from the event log: every alert event after the checkpoint becomes one
 * delivery per webhook of its user, and the checkpoint moves in the same transaction as the deliveries
 * it created. A crash before the commit leaves both as they were (the batch is read again), after it
 * leaves both done; delivery ids follow from (alert, webhook), so a batch read twice inserts nothing twice.
 */
export class Outbox extends Effect.Service<Outbox>()("orw/Webhooks/Outbox", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    const bus = yield* EventBus
    const wake = yield* Wake

    const messageOf = (event: AlertEvent, deliveryId: string, createdAt: string) =>
      Effect.gen(function* () {
        const row = alertRowOf(event)
        const key = row.key_id === null ? Option.none() : yield* ApiKeys.summaryById(row.key_id)
        const data: AlertData = {
          id: row.id,
          kind: row.kind,
          budget_id: row.budget_id,
          key_id: row.key_id,
          threshold: row.threshold,
          amount: microsToUsd(row.amount_micros),
          spent: microsToUsd(row.spent_micros),
          period: row.period,
          period_start: row.period_start,
          fired_at: row.fired_at,
          key_name: Option.match(key, { onNone: () => null, onSome: (k) => k.name })
        }
        return { deliveryId, type: typeOf(event), createdAt, data }
      })

    /** One batch after the checkpoint; the number of events it covered. */
    const step = Effect.gen(function* () {
      const from = yield* Deliveries.checkpoint(OUTBOX)
      const batch = yield* store.readAll(from, BATCH)
      const last = batch.at(-1)
      if (last === undefined) return 0
      let created = 0
      yield* sql.withTransaction(
        Effect.gen(function* () {
          for (const stored of batch) {
            const event = stored.event
            if (!isAlert(event)) continue
            const now = yield* DateTime.now
            for (const hook of yield* Webhooks.ofUser(event.userId)) {
              const deliveryId = deliveryIdOf(event.alertId, hook.id)
              const message = yield* messageOf(event, deliveryId, DateTime.formatIso(now))
              yield* Deliveries.enqueue({
                id: deliveryId,
                webhookId: hook.id,
                userId: hook.userId,
                alertId: event.alertId,
                eventType: message.type,
                body: bodyOf(hook.format, message),
                now: DateTime.toEpochMillis(now)
              })
              created++
            }
          }
          yield* Deliveries.saveCheckpoint(OUTBOX, last.position)
        })
      )
      if (created > 0) yield* wake.deliveries
      return batch.length
    }).pipe(Effect.orDie)

    /** Runs batches until the log is read to its head. */
    const catchUp = Effect.gen(function* () {
      // Between batches the event loop serves requests (the SQLite reads block it while they run).
      while ((yield* step) === BATCH) yield* Effect.sleep("5 millis")
    }).pipe(Effect.withSpan("Outbox.catchUp"))

    /** How many events the outbox has not read yet. */
    const lag = Effect.map(Effect.all([store.head, Deliveries.checkpoint(OUTBOX)]), ([head, at]) =>
      Math.max(0, head - at)
    )

    /** Follows the log: at every commit in this process, and every 2 s for the others'. */
    const run = Effect.scoped(
      Effect.gen(function* () {
        const events = yield* bus.subscribe
        while (true) {
          yield* catchUp.pipe(Effect.catchAllCause((cause) => Effect.logError("Webhook outbox failed", cause)))
          yield* Effect.timeoutOption(events.take, Duration.seconds(2))
        }
      })
    )

    return { catchUp, lag, run } as const
  })
}) {}
