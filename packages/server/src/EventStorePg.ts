/**
 * The PostgreSQL append: every stream claim and every event row of one append in a single statement, so an
 * append costs one round trip instead of one per claim plus one per event (on PostgreSQL each statement is a
 * network round trip; the claims and inserts themselves take microseconds).
 *
 * Same rules as the portable append in EventStore.ts, decided by the database the same way:
 * - each claim is the same conditional statement (`UPDATE ... WHERE version = expected`, or the INSERT that
 *   creates the stream at version 0), row-locking the stream;
 * - the claims run one after the other in stream id order, so two appends that share streams lock them in
 *   the same order and cannot deadlock: claim k is gated on claim k-1 having succeeded (it reads claim k-1's
 *   result), which makes PostgreSQL finish claim k-1, and take its lock, before it looks at claim k's row;
 * - the events are inserted only when every claim succeeded (gated on the last one), in the order given, so
 *   their positions follow that order; UNIQUE (stream_id, stream_version) stays the second line.
 * The answer says how many claims succeeded (the first that failed is the conflict) and the positions.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { ConcurrencyConflict } from "@orw/domain"
import { Effect, Exit } from "effect"
import { isUniqueViolation } from "./Dialect.js"
import type { NewEventRow } from "./EventRows.js"
import { NAMED } from "./PgPool.js"

export interface PgClaim {
  readonly streamId: string
  readonly expectedVersion: number
  readonly next: number
}

/** A row to insert (EventRows.ts). */
export type PgEventRow = NewEventRow

/** Options of {@link appendStatement}. */
export interface AppendStatementOptions {
  /**
   * A claim that does not succeed fails the statement (`orw_claimed`, migration 0008: SQLSTATE
   * {@link CLAIM_FAILED}, the number of claims that succeeded in its detail) instead of answering it,
   * aborting the transaction (the pipelined batch).
   */
  readonly failing?: boolean
  /**
   * With `failing` only: statements run as parts of the append (data-modifying CTEs), not gated on the claims
   * (a failed claim fails the whole statement, undoing them). They all see the snapshot the statement began
   * with, so none may write a row another writes: one event's projection writes, one table each.
   */
  readonly with?: ReadonlyArray<{ readonly text: string; readonly params: ReadonlyArray<unknown> }>
  /** A read in the same statement, its rows answered as JSON in the column `also`. */
  readonly select?: { readonly text: string; readonly params: ReadonlyArray<unknown> }
}

/** The statement and its parameters; exported for the test that checks its shape. */
export const appendStatement = (
  claims: ReadonlyArray<PgClaim>,
  rows: ReadonlyArray<PgEventRow>,
  options: AppendStatementOptions = {}
) => {
  const params: Array<unknown> = []
  const p = (value: unknown, type: string) => {
    params.push(value)
    return `$${params.length}::${type}`
  }
  const ctes: Array<string> = []
  claims.forEach((c, k) => {
    const gate = k === 0 ? "" : `(SELECT count(*) FROM c${k - 1}) = 1`
    ctes.push(
      c.expectedVersion === 0
        ? `c${k} AS (INSERT INTO streams (stream_id, version) SELECT ${p(c.streamId, "text")}, ${p(c.next, "bigint")}${
            gate === "" ? "" : ` WHERE ${gate}`
          } ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version WHERE streams.version = 0 RETURNING 1)`
        : `c${k} AS (UPDATE streams SET version = ${p(c.next, "bigint")} WHERE stream_id = ${p(c.streamId, "text")}
            AND version = ${p(c.expectedVersion, "bigint")}${gate === "" ? "" : ` AND ${gate}`} RETURNING 1)`
    )
  })
  const last = claims.length - 1
  if (rows.length > 0) {
    const values = rows
      .map(
        (r) =>
          `(${p(r.stream_id, "text")}, ${p(r.stream_version, "int")}, ${p(r.type, "text")}, ${p(r.schema_version, "int")}, ${p(r.data, "text")}, ${p(r.metadata, "text")}, ${p(r.recorded_at, "text")})`
      )
      .join(", ")
    ctes.push(`ins AS (INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
      SELECT * FROM (VALUES ${values}) AS v (stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
      ${last < 0 ? "" : `WHERE (SELECT count(*) FROM c${last}) = 1`} RETURNING position)`)
  }
  // Another statement's text inside this one: its placeholders after ours.
  const embed = (statement: { readonly text: string; readonly params: ReadonlyArray<unknown> }) => {
    const offset = params.length
    params.push(...statement.params)
    return statement.text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
  }
  if (options.with !== undefined && options.failing !== true)
    throw new Error("Writes with an append that does not fail")
  for (const [k, statement] of (options.with ?? []).entries()) ctes.push(`w${k} AS (${embed(statement)})`)
  const also =
    options.select === undefined
      ? ""
      : `, (SELECT coalesce(json_agg(a), '[]') FROM (${embed(options.select)}) a) AS also`
  const claimed = claims.length === 0 ? "0" : claims.map((_, k) => `(SELECT count(*) FROM c${k})`).join(" + ")
  const positions = rows.length === 0 ? "ARRAY[]::bigint[]" : "ARRAY(SELECT position FROM ins ORDER BY position)"
  const counted = options.failing === true ? `orw_claimed((${claimed})::int, ${claims.length})` : `(${claimed})::int`
  const text = `${ctes.length === 0 ? "" : `WITH ${ctes.join(",\n")}\n`}SELECT ${counted} AS claimed, ${positions} AS positions${also}`
  return { text, params }
}

/** What `orw_claimed` fails with: a claim did not succeed (a stream moved since it was read). */
export const CLAIM_FAILED = "OR409"

/** The stream a duplicate (stream_id, stream_version) names, from PostgreSQL's "Key (...)=(id, n)" detail. */
export const duplicateStream = (cause: unknown, rows: ReadonlyArray<PgEventRow>) => {
  const detail = typeof cause === "object" && cause !== null ? Reflect.get(cause, "detail") : undefined
  const named =
    typeof detail === "string" ? rows.find((r) => detail.includes(`=(${r.stream_id}, ${r.stream_version})`)) : undefined
  return (named ?? rows[0])?.stream_id ?? ""
}

/**
 * Runs the claims (sorted by stream id by the caller) and inserts the rows; the positions, in the rows' order.
 * Fails with a ConcurrencyConflict naming the first stream that moved (or, second line, a duplicate event).
 */
export const appendPg = (
  sql: SqlClient.SqlClient,
  claims: ReadonlyArray<PgClaim>,
  rows: ReadonlyArray<PgEventRow>,
  expectedOf: (streamId: string) => number
): Effect.Effect<ReadonlyArray<number>, ConcurrencyConflict> => {
  if (claims.length === 0 && rows.length === 0) return Effect.succeed([])
  const { text, params } = appendStatement(claims, rows)
  return sql.unsafe<Record<string, unknown>>(`${NAMED}${text}`, params).pipe(
    Effect.catchTag("SqlError", (error) => {
      if (!isUniqueViolation(error)) return Effect.die(error)
      const streamId = duplicateStream(error.cause, rows)
      return Effect.fail(new ConcurrencyConflict({ streamId, expectedVersion: expectedOf(streamId) }))
    }),
    Effect.flatMap((answer) => {
      const outcome = outcomePg(answer, claims, rows.length)
      return outcome._tag === "Appended"
        ? Effect.succeed(outcome.positions)
        : Effect.fail(new ConcurrencyConflict({ streamId: outcome.streamId, expectedVersion: outcome.expectedVersion }))
    })
  )
}

/**
 * What the append statement answered: the positions of the rows, or the first claim that failed (the stream
 * that moved). An answer with fewer positions than rows is a defect (thrown).
 */
export const outcomePg = (
  answer: ReadonlyArray<Record<string, unknown>>,
  claims: ReadonlyArray<PgClaim>,
  rowCount: number
):
  | { readonly _tag: "Appended"; readonly positions: ReadonlyArray<number> }
  | { readonly _tag: "Conflict"; readonly streamId: string; readonly expectedVersion: number } => {
  const claimed = Number(answer[0]?.claimed ?? 0)
  if (claimed < claims.length) {
    const failed = claims[claimed]!
    return { _tag: "Conflict", streamId: failed.streamId, expectedVersion: failed.expectedVersion }
  }
  const positions = ((answer[0]?.positions ?? []) as ReadonlyArray<string | number>).map(Number)
  if (positions.length !== rowCount) throw new Error(`The append inserted ${positions.length} events of ${rowCount}`)
  return { _tag: "Appended", positions }
}

/** Stream reads in one statement at most. */
const MAX_COALESCED = 64

interface PendingRead<Row> {
  readonly streamId: string
  readonly after: number
  readonly resume: (effect: Effect.Effect<ReadonlyArray<Row>, SqlError>) => void
  cancelled: boolean
}

/**
 * Stream reads outside a transaction, coalesced: the reads asked for in one turn of the event loop (a
 * decision loads its streams concurrently: a key and its usage, or the three streams of a spike) go out as
 * one statement, `(stream_id = ? AND stream_version > ?) OR ...`, instead of one each on a connection of its
 * own. Each caller gets exactly the rows its own query would have given, in stream_version order (all of
 * them from one snapshot). A read inside a transaction must see that transaction: the caller keeps those.
 */
export const makeCoalescedReads = <Row extends { readonly stream_id: string; readonly stream_version: number }>(
  sql: SqlClient.SqlClient
) => {
  let pending: Array<PendingRead<Row>> = []
  const flush = () => {
    const reads = pending.filter((read) => !read.cancelled)
    pending = []
    for (let i = 0; i < reads.length; i += MAX_COALESCED) readTogether(reads.slice(i, i + MAX_COALESCED))
  }
  const readTogether = (batch: ReadonlyArray<PendingRead<Row>>) => {
    const params: Array<unknown> = []
    const where = batch
      .map((read) => {
        params.push(read.streamId, read.after)
        return `(stream_id = $${params.length - 1} AND stream_version > $${params.length})`
      })
      .join(" OR ")
    Effect.runFork(
      Effect.flatMap(
        Effect.exit(sql.unsafe<Row>(`SELECT * FROM events WHERE ${where} ORDER BY stream_version`, params)),
        (exit) =>
          Effect.sync(() => {
            for (const read of batch) {
              read.resume(
                Exit.isSuccess(exit)
                  ? Effect.succeed(
                      exit.value.filter(
                        (row) => row.stream_id === read.streamId && Number(row.stream_version) > read.after
                      )
                    )
                  : Effect.failCause(exit.cause)
              )
            }
          })
      )
    )
  }
  return (streamId: string, after: number): Effect.Effect<ReadonlyArray<Row>, SqlError> =>
    Effect.async<ReadonlyArray<Row>, SqlError>((resume) => {
      const read: PendingRead<Row> = { streamId, after, resume, cancelled: false }
      pending.push(read)
      if (pending.length === 1) setImmediate(flush)
      return Effect.sync(() => {
        read.cancelled = true
      })
    })
}
