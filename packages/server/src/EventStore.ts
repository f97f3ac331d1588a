import { SqlClient } from "@effect/sql"
import type { Upcaster } from "@orw/domain"
import {
  ConcurrencyConflict,
  currentSchemaVersion,
  type DomainEvent,
  upcasters as domainUpcasters,
  streamOf
} from "@orw/domain"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import { isUniqueViolation } from "./Dialect.js"
import { type AppendOutcome, type EventRow, makeEventCodec, makeToStored, storedOf } from "./EventRows.js"
import {
  type AppendStatementOptions,
  appendPg,
  appendStatement,
  CLAIM_FAILED,
  duplicateStream,
  makeCoalescedReads,
  outcomePg,
  type PgClaim
} from "./EventStorePg.js"
import { makeSqliteStore } from "./EventStoreSqlite.js"
import { codeOf, type PgAnswer } from "./PgPipeline.js"
import { SqliteHandle } from "./SqliteClient.js"

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

/** The append lost a race: a stream moved since it was read. The handler retries (a contract error: 409). */
export { ConcurrencyConflict }

/** What the store upcasts with: the current version of each event type, and the upcasters to it. */
export interface EventSchemasShape {
  readonly currentVersion: (type: string) => number
  readonly upcasters: ReadonlyArray<Upcaster>
}

/**
 * The schema versions and upcasters in force: the domain's, a declared dependency of the store (no
 * longer a default that any fiber could override unseen); a test of upcasting builds a store on its own.
 */
export class EventSchemas extends Effect.Service<EventSchemas>()("orw/EventSchemas", {
  succeed: { currentVersion: currentSchemaVersion, upcasters: domainUpcasters } as EventSchemasShape
}) {
  /** Other schema versions and upcasters, for a test of upcasting. */
  static readonly Test = (schemas: EventSchemasShape): Layer.Layer<EventSchemas> =>
    Layer.succeed(EventSchemas, EventSchemas.make(schemas))
}

/** A stream a decision read but does not write: the append fails unless it is still at `expectedVersion`. */
export interface StreamGuard {
  readonly streamId: string
  readonly expectedVersion: number
}

export interface StreamWrite {
  readonly streamId: string
  /** Version the stream had when it was read (0 = no stream yet). */
  readonly expectedVersion: number
  readonly events: ReadonlyArray<DomainEvent>
}

const decodeMetadata = Schema.decodeUnknownSync(Schema.parseJson(EventMetadata))
const encodeMetadata = (metadata: EventMetadata) => JSON.stringify(Schema.encodeSync(EventMetadata)(metadata))

/**
 * The event store, in SQL that SQLite and PostgreSQL both run. `append` must run inside a
 * transaction that the caller opens, so that inline projections commit with the events or
 * not at all.
 *
 * Concurrency rests on the `streams` table, not on the engine having one writer: every stream
 * the decision read is moved (written) or re-checked (guarded) with one conditional statement
 * that row-locks it, so a second decider on another connection waits, then sees the new
 * version and fails. UNIQUE (stream_id, stream_version) on `events` stays as the second line.
 */
export class EventStore extends Effect.Service<EventStore>()("orw/EventStore", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const schemas = yield* EventSchemas

    // Each event type's own schema (found once through the union): the union's answer, without trying each member.
    const codec = makeEventCodec()
    const toStored = makeToStored(schemas, decodeMetadata, codec.decode)

    const coalesced = sql.onDialectOrElse({ pg: () => makeCoalescedReads<EventRow>(sql), orElse: () => undefined })

    const decodeRows = (rows: ReadonlyArray<EventRow>) => Effect.sync(() => rows.map(toStored))

    /**
     * The events of one stream after `afterVersion` (all by default), oldest first, and the
     * stream's version (0 when empty).
     */
    const readStream = Effect.fn("EventStore.readStream")(function* (streamId: string, afterVersion = 0) {
      // PostgreSQL, outside a transaction: concurrent reads share one statement (EventStorePg.ts).
      const rows =
        coalesced !== undefined && Option.isNone(yield* Effect.serviceOption(SqlClient.TransactionConnection))
          ? yield* coalesced(streamId, afterVersion)
          : yield* sql<EventRow>`SELECT * FROM events WHERE stream_id = ${streamId}
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

    /**
     * Moves a stream from `expected` to `next` (`next === expected` for a guard), or fails with a
     * conflict, in one statement that row-locks it: under READ COMMITTED a concurrent mover makes it
     * wait and then re-check the version. A missing row is version 0; the INSERT creates it (and
     * locks the key), so two deciders that both saw "no stream" cannot both get through.
     */
    const claim = (streamId: string, expected: number, next: number) =>
      Effect.flatMap(
        expected === 0
          ? sql<{ readonly version: number }>`INSERT INTO streams (stream_id, version) VALUES (${streamId}, ${next})
              ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version WHERE streams.version = 0
              RETURNING version`
          : sql<{ readonly version: number }>`UPDATE streams SET version = ${next}
              WHERE stream_id = ${streamId} AND version = ${expected} RETURNING version`,
        (rows) =>
          rows.length === 1
            ? Effect.void
            : Effect.fail(new ConcurrencyConflict({ streamId, expectedVersion: expected }))
      ).pipe(Effect.catchTag("SqlError", Effect.die))

    const isPg = sql.onDialectOrElse({ pg: () => true, orElse: () => false })

    const expectedOf = (writes: ReadonlyArray<StreamWrite>, streamId: string) =>
      writes.find((w) => w.streamId === streamId)?.expectedVersion ?? 0

    /** The rows of the writes, encoded (before any statement), each with its event. */
    const rowsOf = (writes: ReadonlyArray<StreamWrite>, metadataJson: string, recordedAt: string) =>
      writes.flatMap((write) =>
        write.events.map((event, i) => {
          const { _tag, ...data } = codec.encode(event)
          return {
            stream_id: write.streamId,
            stream_version: write.expectedVersion + i + 1,
            type: _tag,
            schema_version: schemas.currentVersion(_tag),
            data: JSON.stringify(data),
            metadata: metadataJson,
            recorded_at: recordedAt,
            event
          }
        })
      )

    /** The rows of the writes inserted with the claims in one statement. */
    const appendOnPg = (
      writes: ReadonlyArray<StreamWrite>,
      claims: ReadonlyArray<PgClaim>,
      metadata: EventMetadata,
      metadataJson: string,
      recordedAt: string
    ) => {
      const rows = rowsOf(writes, metadataJson, recordedAt)
      return Effect.map(
        appendPg(sql, claims, rows, (streamId) => expectedOf(writes, streamId)),
        (positions) => rows.map((row, i): StoredEvent => storedOf(row, positions[i]!, metadata, row.event))
      )
    }

    /**
     * PostgreSQL: {@link append} as a statement to send in the caller's transaction (the group commit's
     * pipelined batch) and the outcome its answer gives: the stored events, or the first stream that moved.
     */
    const appendPlanPg = (
      writes: ReadonlyArray<StreamWrite>,
      metadata: EventMetadata,
      guards: ReadonlyArray<StreamGuard>,
      recordedAt: string,
      parts: Pick<AppendStatementOptions, "with" | "select"> = {}
    ) => {
      strangers(writes)
      const claims = claimsOf(writes, guards)
      const rows = rowsOf(writes, encodeMetadata(metadata), recordedAt)
      return {
        statement: appendStatement(claims, rows, { failing: true, ...parts }),
        outcome: (answer: PgAnswer): AppendOutcome => {
          if (!answer.ok && codeOf(answer.error) === CLAIM_FAILED) {
            // The claim after the ones that succeeded is the stream that moved.
            const failed = claims[Number(Reflect.get(answer.error, "detail"))]
            if (failed === undefined) throw answer.error
            return { _tag: "Conflict", streamId: failed.streamId, expectedVersion: failed.expectedVersion }
          }
          if (!answer.ok) {
            // The second line, a duplicate event version: a lost race, as on the client's path; else a defect.
            if (codeOf(answer.error) !== "23505") throw answer.error
            const streamId = duplicateStream(answer.error, rows)
            return { _tag: "Conflict", streamId, expectedVersion: expectedOf(writes, streamId) }
          }
          const result = outcomePg(answer.rows, claims, rows.length)
          return result._tag === "Appended"
            ? {
                _tag: "Appended",
                appended: rows.map((row, i) => storedOf(row, result.positions[i]!, metadata, row.event))
              }
            : result
        }
      }
    }

    /** A write of events that belong to another stream is a defect of the decider. */
    const strangers = (writes: ReadonlyArray<StreamWrite>) => {
      for (const write of writes) {
        const stranger = write.events.find((event) => streamOf(event) !== write.streamId)
        if (stranger !== undefined) throw new Error(`${stranger._tag} does not belong to stream ${write.streamId}`)
      }
    }

    /** Every stream the writes and guards name, in stream id order (the order their locks are taken in). */
    const claimsOf = (writes: ReadonlyArray<StreamWrite>, guards: ReadonlyArray<StreamGuard>) =>
      [
        ...writes.map((w) => ({ ...w, next: w.expectedVersion + w.events.length })),
        ...guards.map((g) => ({ ...g, next: g.expectedVersion }))
      ].sort((a, b) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0))

    /**
     * Appends the writes if every stream they and the guards name is still at the version read.
     * All streams are claimed first, in stream id order, so two appends that share streams lock
     * them in the same order and cannot deadlock; the events are inserted after.
     */
    const append = Effect.fn("EventStore.append")(function* (
      writes: ReadonlyArray<StreamWrite>,
      metadata: EventMetadata,
      guards: ReadonlyArray<StreamGuard> = []
    ) {
      yield* Effect.try({ try: () => strangers(writes), catch: (cause) => cause }).pipe(Effect.orDie)
      const claims = claimsOf(writes, guards)
      const recordedAt = DateTime.formatIso(yield* DateTime.now)
      const metadataJson = encodeMetadata(metadata)
      // PostgreSQL: the claims and the inserts in one statement (one round trip), EventStorePg.ts.
      if (isPg) return yield* appendOnPg(writes, claims, metadata, metadataJson, recordedAt)
      for (const c of claims) yield* claim(c.streamId, c.expectedVersion, c.next)

      const appended: Array<StoredEvent> = []
      for (const write of writes) {
        let version = write.expectedVersion
        for (const event of write.events) {
          version++
          const { _tag, ...data } = codec.encode(event)
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
          appended.push(storedOf(row, Number(inserted[0]?.position), metadata, event))
        }
      }
      return appended as ReadonlyArray<StoredEvent>
    })

    // SQLite: the command path's reads and appends as one synchronous step each (EventStoreSqlite.ts).
    const sqlite = Option.map(yield* Effect.serviceOption(SqliteHandle), (handle) =>
      makeSqliteStore({ handle, schemas, decodeMetadata, encodeMetadata })
    )

    return {
      readStream: Option.isSome(sqlite)
        ? sqlite.value.readStream
        : (streamId: string, afterVersion?: number) => Effect.orDie(readStream(streamId, afterVersion)),
      readAll: (after: number, limit: number) => Effect.orDie(readAll(after, limit)),
      head: Effect.orDie(head),
      append: Option.isSome(sqlite) ? sqlite.value.append : append,
      /** SQLite: the append as a synchronous step on a connection its caller holds (the group commit's fast path). */
      appendOn: Option.isSome(sqlite) ? sqlite.value.appendOn : undefined,
      /** PostgreSQL: the append as a statement for the group commit's pipelined batch. */
      appendPlanPg: isPg ? appendPlanPg : undefined
    } as const
  }),
  dependencies: [EventSchemas.Default]
}) {}
