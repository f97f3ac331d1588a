import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { DomainEvent } from "@orw/domain"
import type Sqlite from "better-sqlite3"
import { DateTime, Effect, Option, Schema } from "effect"
import { lockRows, lockRowsSqlite, withAdvisoryLock } from "./Dialect.js"
import type { StoredEvent } from "./EventStore.js"
import { EventSchemas, EventStore } from "./EventStore.js"
import { LOG_COLUMNS, type LogRow, makeDecoder, type ReplayedEvent } from "./LogReader.js"
import type { PgStatement } from "./PgPipeline.js"
import { DEFERRED, NAMED } from "./PgPool.js"
import type { Projection } from "./Projections/index.js"
import { allProjections } from "./Projections/index.js"
import { type TableWrite, toPg } from "./Projections/Projection.js"
import { SqliteHandle } from "./SqliteClient.js"

/** No projection of that name. */
export class UnknownProjection extends Schema.TaggedError<UnknownProjection>()("UnknownProjection", {
  name: Schema.String
}) {
  override get message() {
    return `Unknown projection "${this.name}" (known: ${allProjections.map((p) => p.name).join(", ")})`
  }
}

export interface ProjectionStatus {
  readonly name: string
  readonly codeVersion: number
  readonly storedVersion: number | null
  readonly position: number
  readonly head: number
  readonly lag: number
}

/** Events per read and per transaction when replaying. */
const BATCH = 2000

/** Events applied between two turns of the event loop when replaying. */
const YIELD_EVERY = 250

/** The last position a replay may read when it has no upper bound. */
const NO_BOUND = Number.MAX_SAFE_INTEGER

/**
 * The checkpoint row that is the projection lock: `alerts`, the first projection's by name when the lock
 * became one row. Every locker locks it first: earlier releases locked every checkpoint row in name order,
 * this one first too, so it excludes them as the whole set did, for one row lock instead of one per
 * projection. It stays this row whatever projections come (a new one named before it does not move it,
 * which would leave instances of two releases on one database locking different rows).
 */
export const PROJECTION_LOCK_ROW = "alerts"

export const lockRowOf = (names: ReadonlyArray<string>): string => {
  if (!names.includes(PROJECTION_LOCK_ROW)) throw new Error(`The projection lock row ${PROJECTION_LOCK_ROW} is gone`)
  return PROJECTION_LOCK_ROW
}

/**
 * A turn of the event loop (its I/O callbacks included): the SQLite driver is synchronous and Effect's
 * scheduler yields to microtasks only, so a replay lets the server answer requests (503 while starting)
 * between its steps. `setImmediate`, not a timer: a zero timer waits ~1 ms, thousands of times a rebuild.
 */
const eventLoopTurn = Effect.async<void>((resume) => {
  const immediate = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(immediate))
})

/** An event as the writes read it (the fields of a decided or replayed event, its time as ISO text). */
type Applied = Pick<ReplayedEvent, "tag" | "fields" | "at">

/** The writes of some tables, one map (event type → statement) per table. */
type Tables = ReadonlyArray<ReadonlyMap<string, TableWrite>>

/**
 * Runs the projections: inline in the append's transaction, catch-up and rebuild at start,
 * and rebuild on demand (replay into a fresh table, then swap it in atomically).
 *
 * One lock orders them, the same on every engine: every transaction that writes a live
 * projection table, its rows or a checkpoint takes `lock` (the lock row among the checkpoints,
 * {@link lockRowOf}; see Dialect.lockRows) as its first statement. So an inline writer never holds a projection
 * table while it waits for a rebuild that DROPs or RENAMEs it (no deadlock); a catch-up or a
 * swap sees every event committed before it; and events are appended in lock order, so
 * positions commit in order and the inline order is the log order that a rebuild replays.
 */
export class Projector extends Effect.Service<Projector>()("orw/Projector", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    const decode = makeDecoder(yield* EventSchemas)
    const projections = allProjections
    // On SQLite, the writes are prepared statements run synchronously, a slice of events in one step;
    // on PostgreSQL, statements through the client (in the caller's transaction as well).
    const handle = Option.getOrUndefined(yield* Effect.serviceOption(SqliteHandle))
    const live: Tables = projections.map((p) => p.writes(p.table))
    // Through the client (PostgreSQL, or an SQLite client without the handle): the dialect's placeholders.
    const text = sql.onDialectOrElse({ pg: () => "pg" as const, orElse: () => "sqlite" as const })

    /** Applies `events` to `tables`, event by event (and in each event, table by table). */
    const writeOn = (prepare: (sql: string) => Sqlite.Statement, events: ReadonlyArray<Applied>, tables: Tables) => {
      for (const e of events) {
        for (const table of tables) {
          const w = table.get(e.tag)
          if (w !== undefined) prepare(w.sqlite).run(w.params(e.fields, e.at))
        }
      }
    }
    const write = (events: ReadonlyArray<Applied>, tables: Tables): Effect.Effect<void, SqlError> =>
      handle !== undefined
        ? handle.use((_, prepare) => writeOn(prepare, events, tables))
        : Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) => {
            const statements: Array<{ readonly text: string; readonly params: ReadonlyArray<unknown> }> = []
            for (const e of events) {
              for (const table of tables) {
                const w = table.get(e.tag)
                if (w !== undefined) statements.push({ text: w[text], params: w.params(e.fields, e.at) })
              }
            }
            // PostgreSQL, in a transaction: every write but the last sent without waiting for its answer, the
            // last reporting their failures (PgPool.ts); one round trip for them all instead of one each.
            const marked = text === "pg" && Option.isSome(transaction)
            return Effect.forEach(
              statements,
              (s, i) =>
                Effect.asVoid(
                  sql.unsafe(
                    marked ? `${i < statements.length - 1 ? DEFERRED : NAMED}${s.text}` : s.text,
                    s.params as ReadonlyArray<never>
                  )
                ),
              { discard: true }
            )
          })

    /** Up to `limit` rows of the log after `after`, up to `to`, in log order, decoded (a defect if one cannot be). */
    const read = (after: number, to: number, limit: number) =>
      Effect.flatMap(
        handle !== undefined
          ? handle.use(
              (_, prepare) =>
                prepare(
                  `SELECT ${LOG_COLUMNS} FROM events WHERE position > ? AND position <= ? ORDER BY position LIMIT ?`
                ).all(after, to, limit) as ReadonlyArray<LogRow>
            )
          : sql<LogRow>`SELECT ${sql.literal(LOG_COLUMNS)} FROM events WHERE position > ${after}
              AND position <= ${to} ORDER BY position LIMIT ${limit}`,
        (rows) => Effect.sync(() => rows.map(decode))
      )
    const now = Effect.map(DateTime.now, DateTime.formatIso)

    /** The checkpoints of the projections that were built (a version-0 row only holds the lock's place). */
    const checkpoints = Effect.map(
      sql<{
        name: string
        version: number
        position: number
      }>`SELECT name, version, position FROM projection_checkpoints WHERE version <> 0`,
      (rows) => new Map(rows.map((r) => [r.name, { version: Number(r.version), position: Number(r.position) }]))
    )

    /**
     * Makes sure every projection has its checkpoint row, committed before anyone locks it: on
     * PostgreSQL `FOR UPDATE` locks only rows that exist, so the projection lock would be no lock at all
     * on a fresh database. A placeholder is version 0, "never built" (no projection has version 0), so
     * `start` still rebuilds it. Rows are never deleted, so this is needed once per database.
     */
    const ensureCheckpoints = Effect.flatMap(
      now,
      (at) =>
        sql`INSERT INTO projection_checkpoints ${sql.insert(
          projections.map((p) => ({ name: p.name, version: 0, position: 0, updated_at: at }))
        )} ON CONFLICT (name) DO NOTHING`
    )

    /**
     * Start-up and rebuilds run one process at a time across the cluster: replaying into
     * `<table>__rebuild` happens outside the projection lock, so two instances starting together on a
     * fresh database (or a CLI rebuild beside a starting server) would drop each other's fresh table.
     */
    const exclusively = withAdvisoryLock(sql, "orw:projections-rebuild")

    const saveCheckpoint = (projection: Projection, position: number) =>
      Effect.flatMap(
        now,
        (at) => sql`INSERT INTO projection_checkpoints ${sql.insert({
          name: projection.name,
          version: projection.version,
          position,
          updated_at: at
        })} ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position,
          updated_at = excluded.updated_at`
      )

    const names = projections.map((p) => p.name)

    /** The projection lock: the lock row among the checkpoints ({@link lockRowOf}), until the transaction ends. */
    const lock = lockRows(sql, "projection_checkpoints", "name", [lockRowOf(names)])

    /** The checkpoint move: every projection's position (then its time, then the names). */
    const MOVE = `UPDATE "projection_checkpoints" SET "position" = ?, "updated_at" = ? WHERE "name" IN (${names
      .map(() => "?")
      .join(", ")})`
    const movePg = toPg(MOVE)

    const inlined = (events: ReadonlyArray<StoredEvent>) =>
      events.map(({ event }) => ({ tag: event._tag, fields: event, at: DateTime.formatIso(event.at) }))

    /**
     * PostgreSQL: the statements {@link applyInline} would run for `events` (which need no position), to be sent
     * in the append's transaction by the caller (the group commit's pipelined batch).
     */
    const inlineStatements = (events: ReadonlyArray<DomainEvent>): Array<PgStatement> => {
      const statements: Array<PgStatement> = []
      for (const event of events) {
        const at = DateTime.formatIso(event.at)
        for (const table of live) {
          const w = table.get(event._tag)
          if (w !== undefined) statements.push({ text: w.pg, params: w.params(event, at) })
        }
      }
      return statements
    }

    /** Applies appended events to every live projection table (inside the append's transaction, under `lock`). */
    const applyInline = (events: ReadonlyArray<StoredEvent>) => write(inlined(events), live)

    /** SQLite: {@link applyInline} as a synchronous step on a connection its caller holds, in its transaction. */
    const applyInlineOn = (prepare: (sql: string) => Sqlite.Statement, events: ReadonlyArray<StoredEvent>) =>
      writeOn(prepare, inlined(events), live)

    /** Moves every checkpoint to `position`, the last one applied inline in this transaction. */
    const moveCheckpoints = (position: number) =>
      Effect.flatMap(now, (at) => sql.unsafe(text === "pg" ? movePg : MOVE, [position, at, ...names]))

    /**
     * SQLite: `lock` and `moveCheckpoints` as synchronous steps on a connection the caller holds, in its
     * transaction (the same statements the client runs, prepared once).
     */
    const on = {
      lock: (prepare: (sql: string) => Sqlite.Statement) =>
        void prepare(lockRowsSqlite("projection_checkpoints", "name", 1)).run(lockRowOf(names)),
      moveCheckpoints: (prepare: (sql: string) => Sqlite.Statement, position: number, at: string) =>
        void prepare(MOVE).run(position, at, ...names),
      applyInline: applyInlineOn
    } as const

    /** PostgreSQL: the inline projections' statements, for the group commit's pipelined batch. */
    const pg = { inlineStatements } as const

    /**
     * Runs `append` (a bare append: the store's, not a command's writes) inside the caller's transaction under
     * the projection lock, then applies the events it appended to every projection and moves their checkpoints.
     */
    const projectInline = <E, R>(append: Effect.Effect<ReadonlyArray<StoredEvent>, E, R>) =>
      underLock(Effect.tap(append, applyInline))

    /**
     * Runs `writes` (an append that applies its events to the projections itself, as a command's writes
     * do) inside the caller's transaction under the projection lock, then moves the checkpoints to the last
     * event it appended, in that transaction. (The group commit does the same for a batch: one lock and one
     * checkpoint move.)
     */
    const underLock = <E, R>(writes: Effect.Effect<ReadonlyArray<StoredEvent>, E, R>) =>
      Effect.gen(function* () {
        yield* lock
        const events = yield* writes
        const last = events.at(-1)
        if (last !== undefined) yield* moveCheckpoints(last.position)
        return events
      }).pipe(Effect.withSpan("Projector.underLock"))

    /**
     * Replays events after `from` (up to `to`) into each target's table in one pass over the log: each
     * batch is read and decoded once and applied to every table, in one transaction. Returns the last
     * position applied. Memory stays bounded by the batch, whatever the length of the log.
     */
    const replay = (
      targets: ReadonlyArray<{ readonly projection: Projection; readonly table: string }>,
      from: number,
      to = NO_BOUND
    ) =>
      Effect.gen(function* () {
        const tables = targets.map(({ projection, table }) => projection.writes(table))
        let position = from
        while (position < to) {
          const batch = yield* read(position, to, BATCH)
          if (batch.length === 0) break
          yield* sql.withTransaction(
            Effect.gen(function* () {
              for (let i = 0; i < batch.length; i += YIELD_EVERY) {
                yield* write(batch.slice(i, i + YIELD_EVERY), tables)
                yield* eventLoopTurn
              }
            })
          )
          position = batch.at(-1)!.position
        }
        return position
      })

    /**
     * Rebuilds projections while others may keep appending: replay into fresh tables outside any
     * transaction (one pass over the log for all of them), then, holding the projection lock, catch up
     * and swap them in.
     */
    const rebuildMany = Effect.fn("Projector.rebuild")(function* (chosen: ReadonlyArray<Projection>) {
      const targets = chosen.map((projection) => ({ projection, table: `${projection.table}__rebuild` }))
      for (const { projection, table } of targets) {
        yield* sql`DROP TABLE IF EXISTS ${sql(table)}`
        yield* projection.create(table)
      }
      const replayed = yield* replay(targets, 0)
      return yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* lock
          const position = yield* replay(targets, replayed)
          for (const { projection, table } of targets) {
            yield* sql`DROP TABLE IF EXISTS ${sql(projection.table)}`
            yield* sql`ALTER TABLE ${sql(table)} RENAME TO ${sql(projection.table)}`
            yield* projection.indexes(projection.table)
            yield* saveCheckpoint(projection, position)
          }
          return position
        })
      )
    })

    const find = (name: string) => {
      const projection = projections.find((p) => p.name === name)
      return projection ? Effect.succeed(projection) : Effect.fail(new UnknownProjection({ name }))
    }

    /** Rebuilds the named projection, or all of them. */
    const rebuild = (name?: string) =>
      Effect.gen(function* () {
        const chosen = name === undefined ? projections : [yield* find(name)]
        yield* ensureCheckpoints
        return yield* exclusively(
          Effect.gen(function* () {
            const position = yield* rebuildMany(chosen)
            return chosen.map((projection) => ({ name: projection.name, position }))
          })
        )
      })

    /** At start: rebuild projections that are new or whose version changed, catch up the rest. */
    const start = Effect.gen(function* () {
      yield* ensureCheckpoints
      // Under the lock, checkpoints are read after any other starter finished: what it rebuilt is not redone.
      yield* exclusively(startLocked)
    }).pipe(Effect.withSpan("Projector.start"))

    const startLocked = Effect.gen(function* () {
      // A rebuild killed part way leaves its `<table>__rebuild` behind, with whatever it had replayed (emails,
      // password hashes): drop it now rather than at the next rebuild. A rebuild another process is running
      // at this moment holds the same lock, so it is never dropped from under it, and leaves the live table as it was.
      for (const projection of projections) yield* sql`DROP TABLE IF EXISTS ${sql(`${projection.table}__rebuild`)}`
      const stored = yield* checkpoints
      const stale = projections.filter((p) => stored.get(p.name)?.version !== p.version)
      for (const projection of stale) {
        yield* Effect.logInfo(`Rebuilding projection ${projection.name} (version ${projection.version})`)
      }
      if (stale.length > 0) yield* rebuildMany(stale)
      for (const projection of projections) {
        const checkpoint = stored.get(projection.name)
        if (checkpoint === undefined || stale.includes(projection)) continue
        if (checkpoint.position < (yield* store.head)) {
          yield* sql.withTransaction(
            Effect.gen(function* () {
              // Lock, then re-read: another process may have applied these events inline since the
              // checkpoint was read above.
              yield* lock
              const current = (yield* checkpoints).get(projection.name)?.position ?? 0
              const position = yield* replay([{ projection, table: projection.table }], current)
              yield* saveCheckpoint(projection, position)
            })
          )
        }
      }
    })

    const status = Effect.gen(function* () {
      const stored = yield* checkpoints
      const head = yield* store.head
      return projections.map((p): ProjectionStatus => {
        const checkpoint = stored.get(p.name)
        const position = checkpoint?.position ?? 0
        return {
          name: p.name,
          codeVersion: p.version,
          storedVersion: checkpoint?.version ?? null,
          position,
          head,
          lag: head - position
        }
      })
    })

    return {
      projections,
      lock,
      applyInline,
      moveCheckpoints,
      on,
      pg,
      underLock,
      projectInline,
      rebuild,
      start: Effect.orDie(start),
      status: Effect.orDie(status)
    } as const
  }),
  dependencies: [EventStore.Default, EventSchemas.Default]
}) {}
