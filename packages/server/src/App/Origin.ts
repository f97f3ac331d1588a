import type { EventMetadata, EventSource } from "../EventStore.js"

/**
 * Where a command comes from (an HTTP request, an RPC call, a sync fiber, the CLI...): everything of its
 * metadata but the actor. This module is the one place event metadata is built.
 */
export interface Origin {
  readonly source: EventSource
  readonly correlationId: string
  readonly requestId: string | null
}

/** An origin outside any request (a sync fiber, the CLI, the demo): a fresh correlation id unless given. */
export const originOf = (source: EventSource, correlationId: string = crypto.randomUUID()): Origin => ({
  source,
  correlationId,
  requestId: null
})

/** The metadata of a command issued by `actor` (a user id, `cli`, or null for the system) from `origin`. */
export const metadataOf = (origin: Origin, actor: string | null): EventMetadata => ({
  actor,
  source: origin.source,
  correlationId: origin.correlationId,
  causationId: null,
  requestId: origin.requestId
})
