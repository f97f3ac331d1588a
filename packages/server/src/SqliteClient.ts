/**
 * Our SQLite client: @effect/sql's SqlClient over one better-sqlite3 connection, as
 * @effect/sql-sqlite-node builds it, with two differences that the command path and the rebuild
 * pay for on every statement:
 *
 * - prepared statements are kept in a plain Map (least recently used out past PREPARED), not in an
 *   Effect `Cache` that hashes the SQL text and runs a fiber per lookup;
 * - the connection is also given as a {@link SqliteHandle}, so hot paths run prepared statements
 *   synchronously inside one `Effect.sync` (no statement object, span or scope per statement),
 *   under the same rules as the client: inside the caller's transaction when there is one, under the
 *   connection's lock otherwise (never in the middle of another fiber's transaction).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type { SqlConnection } from "@effect/sql"
import { SqlClient, SqlError, Statement } from "@effect/sql"
import Sqlite from "better-sqlite3"
import { Context, Effect, Layer, Option, Scope } from "effect"

/** Prepared statements kept per connection; the command path and the projections use a few dozen. */
const PREPARED = 500

export interface SqliteHandleShape {
  /** The connection itself: for a caller that already holds it (see {@link SqliteHandleShape.use}). */
  readonly db: Sqlite.Database
  /** A prepared statement for `sql`, prepared once. */
  readonly prepare: (sql: string) => Sqlite.Statement
  /**
   * Runs `f` on the connection, synchronously: at once inside the caller's transaction, under the
   * connection's lock outside one (so it never sees another fiber's uncommitted writes). A throw is a
   * SqlError, as a statement's failure through the client.
   */
  readonly use: <A>(
    f: (db: Sqlite.Database, prepare: (sql: string) => Sqlite.Statement) => A
  ) => Effect.Effect<A, SqlError.SqlError>
}

/** The SQLite connection behind the SqlClient, for statements run without the client's per-statement machinery. */
export class SqliteHandle extends Context.Tag("orw/SqliteHandle")<SqliteHandle, SqliteHandleShape>() {}

const failed = (cause: unknown, message: string) => new SqlError.SqlError({ cause, message })

const make = (filename: string) =>
  Effect.gen(function* () {
    const compiler = Statement.makeCompilerSqlite()
    const db = new Sqlite(filename)
    yield* Effect.addFinalizer(() => Effect.sync(() => db.close()))
    db.pragma("journal_mode = WAL")

    const prepared = new Map<string, Sqlite.Statement>()
    const prepare = (sql: string) => {
      const known = prepared.get(sql)
      if (known !== undefined) {
        // Most recently used last: the Map's first key is the one to drop.
        prepared.delete(sql)
        prepared.set(sql, known)
        return known
      }
      const statement = db.prepare(sql)
      prepared.set(sql, statement)
      if (prepared.size > PREPARED) prepared.delete(prepared.keys().next().value as string)
      return statement
    }

    const runStatement = (
      statement: Sqlite.Statement,
      params: ReadonlyArray<unknown>,
      raw: boolean
    ): Effect.Effect<ReadonlyArray<object>, SqlError.SqlError> =>
      Effect.withFiberRuntime((fiber) => {
        if (Context.get(fiber.currentContext, SqlClient.SafeIntegers)) statement.safeIntegers(true)
        try {
          if (statement.reader) return Effect.succeed(statement.all(...params) as ReadonlyArray<object>)
          const result = statement.run(...params)
          return Effect.succeed(raw ? (result as unknown as ReadonlyArray<object>) : [])
        } catch (cause) {
          return Effect.fail(failed(cause, "Failed to execute statement"))
        }
      })

    const prepareOrFail = (sql: string) =>
      Effect.try({ try: () => prepare(sql), catch: (cause) => failed(cause, "Failed to prepare statement") })

    const run = (sql: string, params: ReadonlyArray<unknown>, raw = false) =>
      Effect.flatMap(prepareOrFail(sql), (statement) => runStatement(statement, params, raw))

    const connection: SqlConnection.Connection = {
      execute(sql, params, transformRows) {
        return transformRows ? Effect.map(run(sql, params), transformRows) : run(sql, params)
      },
      executeRaw(sql, params) {
        return run(sql, params, true)
      },
      executeValues(sql, params) {
        return Effect.acquireUseRelease(
          prepareOrFail(sql),
          (statement) =>
            Effect.try({
              try: () => {
                if (statement.reader) {
                  statement.raw(true)
                  return statement.all(...params) as ReadonlyArray<ReadonlyArray<unknown>>
                }
                statement.run(...params)
                return []
              },
              catch: (cause) => failed(cause, "Failed to execute statement")
            }),
          (statement) => Effect.sync(() => statement.reader && statement.raw(false))
        )
      },
      executeUnprepared(sql, params, transformRows) {
        const effect = Effect.flatMap(
          Effect.try({ try: () => db.prepare(sql), catch: (cause) => failed(cause, "Failed to prepare statement") }),
          (statement) => runStatement(statement, params ?? [], false)
        )
        return transformRows ? Effect.map(effect, transformRows) : effect
      },
      executeStream() {
        return Effect.dieMessage("executeStream not implemented") as never
      }
    }

    const semaphore = yield* Effect.makeSemaphore(1)
    const acquirer = semaphore.withPermits(1)(Effect.succeed(connection))
    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(semaphore.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))
        ),
        connection
      )
    )
    const client = yield* SqlClient.make({
      acquirer,
      compiler,
      transactionAcquirer,
      spanAttributes: [["db.system.name", "sqlite"]]
    })

    const attempt = <A>(f: (db: Sqlite.Database, prepare: (sql: string) => Sqlite.Statement) => A) =>
      Effect.try({ try: () => f(db, prepare), catch: (cause) => failed(cause, "Failed to execute statement") })
    const use: SqliteHandleShape["use"] = (f) =>
      Effect.withFiberRuntime((fiber) =>
        Option.isSome(Context.getOption(fiber.currentContext, SqlClient.TransactionConnection))
          ? attempt(f)
          : semaphore.withPermits(1)(attempt(f))
      )

    return { client, handle: { db, prepare, use } satisfies SqliteHandleShape }
  })

/** SqlClient and SqliteHandle over the SQLite file `filename` (WAL). */
export const layer = (filename: string): Layer.Layer<SqlClient.SqlClient | SqliteHandle> =>
  Layer.scopedContext(
    Effect.map(make(filename), ({ client, handle }) =>
      Context.make(SqlClient.SqlClient, client).pipe(Context.add(SqliteHandle, handle))
    )
  ).pipe(Layer.provide(Reactivity.layer))
