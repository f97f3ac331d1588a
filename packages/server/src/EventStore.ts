import { SqlClient } from "@effect/sql"
import type { Upcaster } from "@orw/domain"
import { currentSchemaVersion, DomainEvent, upcasters as domainUpcasters, streamOf } from "@orw/domain"
import { Context, DateTime, Effect, Schema } from "effect"
import { isUniqueViolation } from "./Dialect.js"

/** Where a command came from; stored on every event it appends. */
export const EventSource = Schema.Literal("web", "api", "rpc", "cli", "sync", "system")
export type EventSource = typeof EventSource.Type

export const EventMetadata = Schema.Struct({
  actor: Schema.NullOr(Schema.String),
  source: EventSource,
  correlationId: Schema.String,
  causationId: Schema.NullOr(Schema.String),
  requestId: Schema.NullOr(Schema.String)
})
export type EventMetadata = typeof EventMetadata.Type

/** An event as the log holds it, its data upcast to the current schema and decoded. */
export interface StoredEvent {
  readonly position: number
  readonly streamId: string
  readonly streamVersion: number
  readonly type: string
  readonly schemaVersion: number
  readonly recordedAt: string
  readonly metadata: EventMetadata
  readonly event: DomainEvent
}

/** The append lost a race: a stream moved since it was read. The handler retries. */
export class ConcurrencyConflict extends Schema.TaggedError<ConcurrencyConflict>()("ConcurrencyConflict", {
  streamId: Schema.String,
  expectedVersion: Schema.Number
}) {
  readonly status = 409
  override get message() {
    return "The resource was changed concurrently, try again"
  }
}

/** The schema versions and upcasters in force; tests swap in their own. */
export class EventSchemas extends Context.Reference<EventSchemas>()("orw/EventSchemas", {
  defaultValue: (): {
    readonly currentVersion: (type: string) => number
    readonly upcasters: ReadonlyArray<Upcaster>
  } => ({ currentVersion: currentSchemaVersion, upcasters: domainUpcasters })
}) {}

export interface StreamWrite {
  readonly streamId: string
  /** Version the stream had when it was read (0 = no stream yet). */
  readonly expectedVersion: number
  readonly events: ReadonlyArray<DomainEvent>
}

interface EventRow {
  readonly position: number
  readonly stream_id: string
  readonly stream_version: number
  readonly type: string
  readonly schema_version: number
  readonly data: string
  readonly metadata: string
  readonly recorded_at: string
}

const encodeEvent = Schema.encodeSync(DomainEvent)
const decodeEvent = Schema.decodeUnknownSync(DomainEvent)
const decodeMetadata = Schema.decodeUnknownSync(Schema.parseJson(EventMetadata))

/**
 * The SQLite (portable SQL) event store. `append` must run inside a transaction that the
 * caller opens, so that inline projections commit with the events or not at all.
 */
export class EventStore extends Effect.Service<EventStore>()("orw/EventStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const toStored = (row: EventRow, schemas: EventSchemas["Type"]): StoredEvent => {
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
        event: decodeEvent({ ...data, _tag: row.type })
      }
    }

    const decodeRows = (rows: ReadonlyArray<EventRow>) =>
      Effect.flatMap(EventSchemas, (schemas) => Effect.sync(() => rows.map((row) => toStored(row, schemas))))

    /**
     * The events of one stream after `afterVersion` (all by default), oldest first, and the
     * stream's version (0 when empty).
     */
    const readStream = Effect.fn("EventStore.readStream")(function* (streamId: string, afterVersion = 0) {
      const rows = yield* sql<EventRow>`SELECT * FROM events WHERE stream_id = ${streamId}
        AND stream_version > ${afterVersion} ORDER BY stream_version`
      const events = yield* decodeRows(rows)
      return { version: events.at(-1)?.streamVersion ?? afterVersion, events }
    })

    /** Up to `limit` events with a position greater than `after`, in log order. */
    const readAll = Effect.fn("EventStore.readAll")(function* (after: number, limit: number) {
      const rows = yield* sql<EventRow>`SELECT * FROM events WHERE position > ${after} ORDER BY position LIMIT ${limit}`
      return yield* decodeRows(rows)
    })

    /** The position of the newest event, 0 for an empty log. */
    const head = Effect.map(sql<{ readonly head: number | null }>`SELECT MAX(position) AS head FROM events`, (rows) =>
      Number(rows[0]?.head ?? 0)
    )

    const streamVersion = (streamId: string) =>
      Effect.map(
        sql<{ readonly v: number | null }>`SELECT MAX(stream_version) AS v FROM events WHERE stream_id = ${streamId}`,
        (rows) => Number(rows[0]?.v ?? 0)
      )

    /**
     * Appends the writes, then checks that every guarded stream (read by the decision but
     * not written) is still at the version read. Writes come first: the insert takes
     * SQLite's write lock, so the checks see the latest committed state.
     */
    const append = Effect.fn("EventStore.append")(function* (
      writes: ReadonlyArray<StreamWrite>,
      metadata: EventMetadata,
      guards: ReadonlyArray<{ readonly streamId: string; readonly expectedVersion: number }> = []
    ) {
      const schemas = yield* EventSchemas
      const recordedAt = DateTime.formatIso(yield* DateTime.now)
      const metadataJson = JSON.stringify(Schema.encodeSync(EventMetadata)(metadata))
      const appended: Array<StoredEvent> = []
      for (const write of writes) {
        let version = write.expectedVersion
        for (const event of write.events) {
          if (streamOf(event) !== write.streamId) {
            return yield* Effect.dieMessage(`${event._tag} does not belong to stream ${write.streamId}`)
          }
          version++
          const { _tag, ...data } = encodeEvent(event) as { _tag: string } & Record<string, unknown>
          const row = {
            stream_id: write.streamId,
            stream_version: version,
            type: _tag,
            schema_version: schemas.currentVersion(_tag),
            data: JSON.stringify(data),
            metadata: metadataJson,
            recorded_at: recordedAt
          }
          const inserted = yield* sql<{
            readonly position: number
          }>`INSERT INTO events ${sql.insert(row)} RETURNING position`.pipe(
            Effect.catchTag("SqlError", (error) =>
              isUniqueViolation(error)
                ? Effect.fail(
                    new ConcurrencyConflict({ streamId: write.streamId, expectedVersion: write.expectedVersion })
                  )
                : Effect.die(error)
            )
          )
          appended.push({
            position: Number(inserted[0]?.position),
            streamId: row.stream_id,
            streamVersion: row.stream_version,
            type: row.type,
            schemaVersion: row.schema_version,
            recordedAt,
            metadata,
            event
          })
        }
      }
      for (const guard of guards) {
        const actual = yield* streamVersion(guard.streamId).pipe(Effect.orDie)
        if (actual !== guard.expectedVersion) {
          return yield* new ConcurrencyConflict({ streamId: guard.streamId, expectedVersion: guard.expectedVersion })
        }
      }
      return appended as ReadonlyArray<StoredEvent>
    })

    return {
      readStream: (streamId: string, afterVersion?: number) => Effect.orDie(readStream(streamId, afterVersion)),
      readAll: (after: number, limit: number) => Effect.orDie(readAll(after, limit)),
      head: Effect.orDie(head),
      append
    } as const
  })
}) {}
