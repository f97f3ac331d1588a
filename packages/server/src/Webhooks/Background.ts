import { Effect, Layer } from "effect"
import { AlertWatch } from "./AlertWatch.js"
import { DeliveryWorker } from "./Delivery.js"
import { Outbox } from "./Outbox.js"

/** The alert catch-up, the webhook outbox and the delivery worker, as fibers of the server's scope. */
export const BackgroundDelivery = Layer.scopedDiscard(
  Effect.gen(function* () {
    const watch = yield* AlertWatch
    const outbox = yield* Outbox
    const worker = yield* DeliveryWorker
    yield* Effect.forkScoped(watch.run)
    yield* Effect.forkScoped(outbox.run)
    yield* Effect.forkScoped(worker.run)
  })
)

/** The services themselves (also for tests and /metrics). */
export const Services = Layer.mergeAll(AlertWatch.Default, Outbox.Default, DeliveryWorker.Default)
