import { Duration, Effect, Option } from "effect"
import { evaluateUsage } from "../Alerting.js"
import { metadataOf, originOf } from "../App/Origin.js"
import { AppConfig } from "../Config.js"
import { Dispatcher } from "../Dispatcher.js"
import { EventStore } from "../EventStore.js"
import * as Deliveries from "../SideTables/Deliveries.js"

export const ALERT_WATCH = "alert_watch"
const BATCH = 500
/** The pause between two batches of a catch-up, so requests are answered meanwhile. */
const BATCH_PAUSE = Duration.millis(5)

/**
 * The catch-up of the firing rule: usage is decided again inline after every append (Dispatcher), but a
 * process can die between the append and that decision, or lose every race for it. This reactor reads
 * the log after its checkpoint and decides the touched budgets again; deciding twice is harmless (the
 * budget stream says what has fired), so it runs at start and once a minute.
 */
export class AlertWatch extends Effect.Service<AlertWatch>()("orw/Webhooks/AlertWatch", {
  effect: Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const store = yield* EventStore
    const spikeFactor = Option.match(yield* Effect.serviceOption(AppConfig), {
      onNone: () => 3,
      onSome: (c) => c.spikeFactor
    })
    const metadata = metadataOf(originOf("system"), null)

    const catchUp = Effect.gen(function* () {
      while (true) {
        const from = yield* Deliveries.checkpoint(ALERT_WATCH)
        const batch = yield* store.readAll(from, BATCH)
        const last = batch.at(-1)
        if (last === undefined) return
        yield* evaluateUsage(dispatcher.dispatch, batch, metadata, spikeFactor)
        yield* Deliveries.saveCheckpoint(ALERT_WATCH, last.position)
        // A long log (the first start over an existing database) is read in batches; between them the event
        // loop serves requests (the SQLite reads block it while they run).
        if (batch.length === BATCH) yield* Effect.sleep(BATCH_PAUSE)
      }
    }).pipe(Effect.withSpan("AlertWatch.catchUp"))

    const run = Effect.gen(function* () {
      while (true) {
        yield* catchUp.pipe(Effect.catchAllCause((cause) => Effect.logError("Alert catch-up failed", cause)))
        yield* Effect.sleep(Duration.minutes(1))
      }
    })

    return { catchUp, run } as const
  })
}) {}
