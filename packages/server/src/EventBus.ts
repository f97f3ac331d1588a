import { Effect, PubSub } from "effect"
import type { StoredEvent } from "./EventStore.js"

/**
 * Committed events, published in-process after their transaction commits, so that
 * reactors (the sync supervisor) follow the log without polling it.
 */
export class EventBus extends Effect.Service<EventBus>()("orw/EventBus", {
  scoped: Effect.gen(function* () {
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<StoredEvent>(), PubSub.shutdown)
    return {
      publish: (events: ReadonlyArray<StoredEvent>) => PubSub.publishAll(pubsub, events),
      /** `publish` as a synchronous step (the PubSub is unbounded: an offer never waits). */
      publishNow: (events: ReadonlyArray<StoredEvent>) => {
        for (const event of events) pubsub.unsafeOffer(event)
      },
      subscribe: PubSub.subscribe(pubsub)
    } as const
  })
}) {}
