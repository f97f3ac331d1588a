import { DomainEvent } from "@orw/domain"
import { Schema } from "effect"
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

/** An append's outcome as a step of a batch gives it: its stored events, or the first stream that moved. */
export type AppendOutcome =
  | { readonly _tag: "Appended"; readonly appended: ReadonlyArray<StoredEvent> }
  | { readonly _tag: "Conflict"; readonly streamId: string; readonly expectedVersion: number }

type Encoded = { _tag: string } & Record<string, unknown>

/**
 * Encoders and decoders per event type, each the schema of that one type (a TaggedClass), found the first
 * time through the whole DomainEvent union: the union's answer for each value, without matching the value
 * against every member of the union each time.
 */
export const makeEventCodec = () => {
  const encodeAny = Schema.encodeSync(DomainEvent)
  const decodeAny = Schema.decodeUnknownSync(DomainEvent)
  const encoders = new Map<unknown, (event: DomainEvent) => Encoded>()
  const decoders = new Map<string, (data: unknown) => DomainEvent>()
  return {
    encode: (event: DomainEvent): Encoded => {
      const known = encoders.get(event.constructor)
      if (known !== undefined) return known(event)
      const encoded = encodeAny(event) as Encoded
      encoders.set(
        event.constructor,
        Schema.encodeSync(event.constructor as unknown as Schema.Schema<DomainEvent, Encoded>)
      )
      return encoded
    },
    decode: (tag: string, data: Record<string, unknown>): DomainEvent => {
      const value = { ...data, _tag: tag }
      const known = decoders.get(tag)
      if (known !== undefined) return known(value)
      const decoded = decodeAny(value)
      if (decoded._tag === tag) {
        decoders.set(
          tag,
          Schema.decodeUnknownSync(decoded.constructor as unknown as Schema.Schema<DomainEvent, Encoded>)
        )
      }
      return decoded
    }
  }
}
