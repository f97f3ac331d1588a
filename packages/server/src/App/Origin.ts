import type { EventMetadata, EventSource } from "../EventStore.js"

/** Where a command comes from (HTTP request, RPC call...): everything of its metadata but the actor. */
export interface Origin {
  readonly source: EventSource
  readonly correlationId: string
  readonly requestId: string | null
}

/** The metadata of a command issued by `actor` from `origin`. */
export const metadataOf = (origin: Origin, actor: string): EventMetadata => ({
  actor,
  source: origin.source,
  correlationId: origin.correlationId,
  causationId: null,
  requestId: origin.requestId
})
