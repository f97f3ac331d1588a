import { Duration, Effect, Queue } from "effect"

/** Tells the delivery worker and the outbox that there is work now, instead of their next poll. */
export class Wake extends Effect.Service<Wake>()("orw/Webhooks/Wake", {
  effect: Effect.gen(function* () {
    const outbox = yield* Queue.sliding<void>(1)
    const deliveries = yield* Queue.sliding<void>(1)
    /** Waits for a signal on `queue`, or `timeout`, whichever comes first. */
    const wait = (queue: Queue.Queue<void>, timeout: Duration.DurationInput) =>
      Effect.asVoid(Effect.timeoutOption(Queue.take(queue), Duration.max(Duration.decode(timeout), Duration.zero)))
    return {
      /** New events may hold alerts. */
      events: Queue.offer(outbox, undefined),
      /** New deliveries are due. */
      deliveries: Queue.offer(deliveries, undefined),
      waitForEvents: (timeout: Duration.DurationInput) => wait(outbox, timeout),
      waitForDeliveries: (timeout: Duration.DurationInput) => wait(deliveries, timeout)
    } as const
  })
}) {}
