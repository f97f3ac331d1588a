import type { DomainEvent } from "@orw/domain"
import type { EventMetadata, EventSchemasShape, StoredEvent } from "./EventStore.js"

/** An event row as the `events` table holds it, before its position is known (as it is written). */
export interface NewEventRow {
  readonly stream_id: string
  readonly stream_version: number
  readonly type: string
  readonly schema_version: number
  readonly data: string
  readonly metadata: string
  readonly recorded_at: string
}

/** An event row as the `events` table holds it. */
export interface EventRow extends NewEventRow {
  readonly position: number
}

/**
 * Rows to stored events, the same on every path that reads the log: the data upcast to the current schema
 * version of its type, then decoded by `decode` (the whole DomainEvent union, or a decoder per type).
 */
export const makeToStored =
  (
    schemas: EventSchemasShape,
    decodeMetadata: (json: string) => EventMetadata,
    decode: (type: string, data: Record<string, unknown>) => DomainEvent
  ) =>
  (row: EventRow): StoredEvent => {
    let data = JSON.parse(row.data) as Record<string, unknown>
    let version = Number(row.schema_version)
    const target = schemas.currentVersion(row.type)
    while (version < target) {
      const from = version
      const upcaster = schemas.upcasters.find((u) => u.type === row.type && u.fromVersion === from)
      if (upcaster === undefined) throw new Error(`No upcaster for ${row.type} v${from}`)
      data = upcaster.up(data)
      version++
    }
    return {
      position: Number(row.position),
      streamId: row.stream_id,
      streamVersion: Number(row.stream_version),
      type: row.type,
      schemaVersion: version,
      recordedAt: row.recorded_at,
      metadata: decodeMetadata(row.metadata),
      event: decode(row.type, data)
    }
  }

/** The stored event of a row just inserted at `position` (its event and metadata as they were appended). */
export const storedOf = (
  row: NewEventRow,
  position: number,
  metadata: EventMetadata,
  event: DomainEvent
): StoredEvent => ({
  position,
  streamId: row.stream_id,
  streamVersion: row.stream_version,
  type: row.type,
  schemaVersion: row.schema_version,
  recordedAt: row.recorded_at,
  metadata,
  event
})
