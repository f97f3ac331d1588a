/**
 * The event store's hot path on SQLite: a stream read, and an append (every claim, then every insert),
 * each as one synchronous step on the connection ({@link SqliteHandle}), with prepared statements and
 * no per-statement span, scope or fiber. Same statements, same order, same answers as the portable
 * store in EventStore.ts (which PostgreSQL keeps running), same rules: inside the caller's transaction
 * when there is one, under the connection's lock otherwise.
 */
import { ConcurrencyConflict, streamOf } from "@orw/domain"
import type Sqlite from "better-sqlite3"
import { DateTime, Effect } from "effect"
import { type AppendOutcome, type EventRow, makeEventCodec, makeToStored } from "./EventRows.js"
import type {
  EventMetadata as EventMetadataType,
  EventSchemasShape,
  StoredEvent,
  StreamGuard,
  StreamWrite
} from "./EventStore.js"
import type { SqliteHandleShape } from "./SqliteClient.js"

/** What the store's SQLite path needs of the store: the codecs of the portable one where they are shared. */
export interface SqliteStoreOptions {
  readonly handle: SqliteHandleShape
  readonly schemas: EventSchemasShape
  readonly decodeMetadata: (json: string) => EventMetadataType
  readonly encodeMetadata: (metadata: EventMetadataType) => string
}

const READ_STREAM = "SELECT * FROM events WHERE stream_id = ? AND stream_version > ? ORDER BY stream_version"
const CLAIM_NEW = `INSERT INTO streams (stream_id, version) VALUES (?, ?)
  ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version WHERE streams.version = 0 RETURNING version`
const CLAIM = "UPDATE streams SET version = ? WHERE stream_id = ? AND version = ? RETURNING version"
const INSERT = `INSERT INTO events ("stream_id","stream_version","type","schema_version","data","metadata","recorded_at")
  VALUES (?,?,?,?,?,?,?) RETURNING position`

/** SQLite reports a duplicate key as one of these (see Dialect.isUniqueViolation). */
const isUnique = (cause: unknown) => {
  const code = typeof cause === "object" && cause !== null ? Reflect.get(cause, "code") : undefined
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY"
}

export const makeSqliteStore = ({ handle, schemas, decodeMetadata, encodeMetadata }: SqliteStoreOptions) => {
  const codec = makeEventCodec()

  const toStored = makeToStored(schemas, decodeMetadata, codec.decode)

  /** The events of one stream after `afterVersion`, oldest first, and the stream's version. */
  const readStream = (
    streamId: string,
    afterVersion = 0
  ): Effect.Effect<{ readonly version: number; readonly events: ReadonlyArray<StoredEvent> }> =>
    Effect.orDie(
      handle.use((_, prepare) => {
        const rows = prepare(READ_STREAM).all(streamId, afterVersion) as ReadonlyArray<EventRow>
        const events = rows.map(toStored)
        return { version: events.at(-1)?.streamVersion ?? afterVersion, events }
      })
    )

  /**
   * As EventStore.append, as one synchronous step on a connection the caller holds (inside its
   * transaction): every stream claimed in stream id order, then the events inserted. A lost race is an
   * outcome, not a throw; a failed statement throws (a defect of the caller's transaction).
   */
  const appendOn = (
    prepare: (sql: string) => Sqlite.Statement,
    writes: ReadonlyArray<StreamWrite>,
    metadata: EventMetadataType,
    guards: ReadonlyArray<StreamGuard>,
    recordedAt: string
  ): AppendOutcome => {
    for (const write of writes) {
      const stranger = write.events.find((event) => streamOf(event) !== write.streamId)
      if (stranger !== undefined) throw new Error(`${stranger._tag} does not belong to stream ${write.streamId}`)
    }
    const claims = [
      ...writes.map((w) => ({
        streamId: w.streamId,
        expected: w.expectedVersion,
        next: w.expectedVersion + w.events.length
      })),
      ...guards.map((g) => ({ streamId: g.streamId, expected: g.expectedVersion, next: g.expectedVersion }))
    ].sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0))
    const metadataJson = encodeMetadata(metadata)
    const rows = writes.map((write) => write.events.map((event) => codec.encode(event)))
    for (const c of claims) {
      const claimed =
        c.expected === 0
          ? prepare(CLAIM_NEW).get(c.streamId, c.next)
          : prepare(CLAIM).get(c.next, c.streamId, c.expected)
      if (claimed === undefined) return { _tag: "Conflict", streamId: c.streamId, expectedVersion: c.expected }
    }
    const insert = prepare(INSERT)
    const appended: Array<StoredEvent> = []
    for (const [w, write] of writes.entries()) {
      let version = write.expectedVersion
      for (const [i, event] of write.events.entries()) {
        version++
        const { _tag, ...data } = rows[w]![i]!
        const schemaVersion = schemas.currentVersion(_tag)
        let inserted: { readonly position: number } | undefined
        try {
          inserted = insert.get(
            write.streamId,
            version,
            _tag,
            schemaVersion,
            JSON.stringify(data),
            metadataJson,
            recordedAt
          ) as { readonly position: number } | undefined
        } catch (cause) {
          if (isUnique(cause)) {
            return { _tag: "Conflict", streamId: write.streamId, expectedVersion: write.expectedVersion }
          }
          throw cause
        }
        appended.push({
          position: Number(inserted?.position),
          streamId: write.streamId,
          streamVersion: version,
          type: _tag,
          schemaVersion,
          recordedAt,
          metadata,
          event
        })
      }
    }
    return { _tag: "Appended", appended }
  }

  /** As EventStore.append: {@link appendOn} on the connection (in the caller's transaction, or under its lock). */
  const append = (
    writes: ReadonlyArray<StreamWrite>,
    metadata: EventMetadataType,
    guards: ReadonlyArray<StreamGuard> = []
  ): Effect.Effect<ReadonlyArray<StoredEvent>, ConcurrencyConflict> =>
    Effect.flatMap(DateTime.now, (now) => {
      const recordedAt = DateTime.formatIso(now)
      return Effect.flatMap(
        // Encoding an event that does not fit its schema, or a statement failing other than by a lost race,
        // is a defect, as on the portable path.
        Effect.orDie(handle.use((_, prepare) => appendOn(prepare, writes, metadata, guards, recordedAt))),
        (outcome) =>
          outcome._tag === "Appended"
            ? Effect.succeed(outcome.appended)
            : Effect.fail(
                new ConcurrencyConflict({ streamId: outcome.streamId, expectedVersion: outcome.expectedVersion })
              )
      )
    })

  return { readStream, append, appendOn } as const
}
