/**
 * `orw migrate-to`: copies a SQLite database into an empty PostgreSQL one. What is copied is what the
 * projections cannot be rebuilt from: the log (positions, versions, metadata as they are), the streams
 * table, idempotency keys, and the side tables (key vault, token use, sync state, balances). The read
 * models are then rebuilt on PostgreSQL from the copied log, and the copy is checked: the same number
 * of events, and the same digest of every stream.
 */
import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, type Redacted, Schema } from "effect"
import * as Core from "./Core.js"
import { Projector } from "./Projector.js"
import * as Sql from "./Sql.js"

/** The tables copied row for row, in this order (the log first). */
export const COPIED_TABLES = [
  "events",
  "streams",
  "idempotency",
  "key_vault",
  "token_usage",
  "key_sync",
  "account_balance"
] as const

const BATCH = 500

/** Why a copy was refused or failed its check. */
export class CopyFailed extends Schema.TaggedError<CopyFailed>()("CopyFailed", { message: Schema.String }) {}

export interface CopyReport {
  readonly events: number
  readonly streams: number
  /** sha256 over every stream's digest (each checked equal on both sides), in stream order. */
  readonly digest: string
  readonly rows: Readonly<Record<string, number>>
  readonly projections: ReadonlyArray<{ readonly name: string; readonly position: number }>
}

/** Each stream's digest: sha256 over its events in version order, every stored column included. */
const digests = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    const result = new Map<string, NodeCrypto.Hash>()
    let after = 0
    for (;;) {
      const rows = yield* sql<{
        position: number
        stream_id: string
        stream_version: number
        type: string
        schema_version: number
        data: string
        metadata: string
        recorded_at: string
      }>`SELECT * FROM events WHERE position > ${after} ORDER BY position LIMIT ${BATCH}`
      if (rows.length === 0) break
      for (const row of rows) {
        const hash = result.get(row.stream_id) ?? NodeCrypto.createHash("sha256")
        result.set(row.stream_id, hash)
        hash.update(
          JSON.stringify([
            Number(row.position),
            Number(row.stream_version),
            row.type,
            Number(row.schema_version),
            row.data,
            row.metadata,
            row.recorded_at
          ])
        )
      }
      after = Number(rows.at(-1)?.position)
    }
    return new Map([...result].map(([stream, hash]) => [stream, hash.digest("hex")]))
  })

/**
 * Runs a statement of the source outside the target's transaction: @effect/sql finds the open
 * transaction in the fiber's context whatever the client, so without this the SQLite read would be
 * sent down the PostgreSQL transaction's connection.
 */
const outsideTransaction = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.mapInputContext(effect, (context: Context.Context<never>) =>
    Context.omit(SqlClient.TransactionConnection)(context)
  )

const copyTable = (from: SqlClient.SqlClient, to: SqlClient.SqlClient, table: string) =>
  Effect.gen(function* () {
    let offset = 0
    for (;;) {
      // rowid order: stable paging of any SQLite table.
      const rows = yield* outsideTransaction(
        from<Record<string, unknown>>`SELECT * FROM ${from(table)} ORDER BY rowid LIMIT ${BATCH} OFFSET ${offset}`
      )
      if (rows.length === 0) return offset
      yield* to`INSERT INTO ${to(table)} ${to.insert(rows)}`
      offset += rows.length
    }
  })

/** Copies the SQLite database at `filename` into the empty PostgreSQL database at `url`, then checks it. */
export const copyToPostgres = (filename: string, url: Redacted.Redacted<string>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const from = Context.get(yield* Layer.build(Sql.layerFile(filename)), SqlClient.SqlClient)
      const to = Context.get(yield* Layer.build(Sql.layerPostgres(url)), SqlClient.SqlClient)
      for (const table of COPIED_TABLES) {
        const [row] = yield* to<{ n: number }>`SELECT COUNT(*) AS n FROM ${to(table)}`
        if (Number(row?.n) > 0) {
          return yield* new CopyFailed({
            message: `The PostgreSQL database is not empty (${table} has rows): migrate-to only copies into an empty database`
          })
        }
      }
      const rows: Record<string, number> = {}
      yield* to.withTransaction(
        Effect.gen(function* () {
          // Nobody may append while the log is copied with its positions.
          yield* to`LOCK TABLE events IN EXCLUSIVE MODE`
          for (const table of COPIED_TABLES) rows[table] = yield* copyTable(from, to, table)
          // The next appended event continues after the copied positions.
          yield* to`SELECT setval(pg_get_serial_sequence('events', 'position'), COALESCE((SELECT MAX(position) FROM events), 0) + 1, false)`
        })
      )
      const [source, target] = [yield* digests(from), yield* digests(to)]
      const differing = [...source].filter(([stream, digest]) => target.get(stream) !== digest).map(([s]) => s)
      if (source.size !== target.size || differing.length > 0 || rows.events !== (yield* countEvents(to))) {
        return yield* new CopyFailed({
          message: `The copy does not match its source: ${differing.length} stream(s) differ (${differing.slice(0, 3).join(", ")})`
        })
      }
      // The read models, rebuilt from the copied log (the core's start rebuilds what has no checkpoint).
      const core = yield* Layer.build(Core.layerWith(Layer.succeed(SqlClient.SqlClient, to)))
      const status = yield* Context.get(core, Projector).status
      const logDigest = NodeCrypto.createHash("sha256")
      for (const stream of [...source.keys()].sort()) logDigest.update(`${stream}\u0000${source.get(stream)}\n`)
      return {
        events: rows.events ?? 0,
        streams: source.size,
        digest: logDigest.digest("hex"),
        rows,
        projections: status.map((p) => ({ name: p.name, position: p.position }))
      } satisfies CopyReport
    })
  )

const countEvents = (sql: SqlClient.SqlClient) =>
  Effect.map(sql<{ n: number }>`SELECT COUNT(*) AS n FROM events`, ([row]) => Number(row?.n))
