/**
 * Everything that differs between the SQL engines, in one place. The store, the projector and the
 * migrations write portable SQL (ON CONFLICT, RETURNING, `UPDATE ... WHERE version = ?`) and come here
 * for the rest; supporting PostgreSQL means filling in the `pg` branches, not finding them.
 */
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { Effect } from "effect"

/** SQLite reports a duplicate key as one of these; PostgreSQL as SQLSTATE 23505. */
const UNIQUE_CODES: ReadonlySet<string> = new Set(["SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY", "23505"])

/**
 * Whether the statement failed on a unique or primary key: the store reads that as a lost race.
 * Other constraints (NOT NULL, CHECK) are bugs and must not be retried as conflicts.
 */
export const isUniqueViolation = (error: SqlError): boolean => {
  const cause: unknown = error.cause
  const code = typeof cause === "object" && cause !== null ? Reflect.get(cause, "code") : undefined
  return typeof code === "string" && UNIQUE_CODES.has(code)
}

/**
 * The DDL of a global, ever-increasing, 64-bit position that is the table's primary key. SQLite must
 * say exactly `INTEGER PRIMARY KEY` (an alias of the 64-bit rowid; `BIGINT` would not be, and
 * AUTOINCREMENT forbids it); AUTOINCREMENT keeps a position from being reused after the newest row goes.
 */
export const positionColumn = (sql: SqlClient.SqlClient): Fragment =>
  sql.literal(
    sql.onDialectOrElse({
      pg: () => "BIGSERIAL PRIMARY KEY",
      orElse: () => "INTEGER PRIMARY KEY AUTOINCREMENT"
    })
  )

/**
 * `column` in an ORDER BY, compared byte by byte on both engines. SQLite's default collation (BINARY)
 * already does; a PostgreSQL database may have been created with a linguistic collation (en_US.UTF-8 or
 * ICU, the default of most managed servers), which orders "Z" after "a" and skips punctuation, so the same
 * query would page differently there. `COLLATE "C"` keeps the API's answers byte-identical on either.
 * `column` is SQL of ours (a column name), never input.
 */
export const byteOrder = (sql: SqlClient.SqlClient, column: string): Fragment =>
  sql.literal(sql.onDialectOrElse({ pg: () => `${column} COLLATE "C"`, orElse: () => column }))

/**
 * Locks the rows of `table` whose `column` is one of `keys` until the transaction ends; concurrent
 * lockers wait. Call it first in the transaction, before anything it protects is read or written.
 *
 * - PostgreSQL: `SELECT ... ORDER BY ... FOR UPDATE` (a fixed order, so two lockers cannot deadlock).
 * - SQLite has no row locks: a transaction's first write takes the database-wide write lock and holds
 *   it to COMMIT, so a write that changes nothing (it need not even match a row) is its FOR UPDATE. It
 *   must come before any read: a deferred transaction that read first cannot take the write lock once
 *   another connection has committed (SQLITE_BUSY_SNAPSHOT, without waiting for busy_timeout).
 *
 * Rows that do not exist are not locked on PostgreSQL: callers lock rows that exist whenever the thing
 * they protect does.
 */
export const lockRows = (sql: SqlClient.SqlClient, table: string, column: string, keys: ReadonlyArray<string>) =>
  Effect.asVoid(
    sql.onDialectOrElse({
      pg: () => sql`SELECT ${sql(column)} FROM ${sql(table)} WHERE ${sql.in(column, keys)}
        ORDER BY ${sql(column)} FOR UPDATE`,
      orElse: () => sql.unsafe(lockRowsSqlite(table, column, keys.length), keys)
    })
  )

/** SQLite's {@link lockRows}: the statement, with a `?` for each of `count` keys (names are ours, not input). */
export const lockRowsSqlite = (table: string, column: string, count: number) =>
  `UPDATE "${table}" SET "${column}" = "${column}" WHERE "${column}" IN (${Array.from({ length: count }, () => "?").join(", ")})`

/**
 * Runs `effect` while holding the cluster-wide lock `name`, so that one process at a time runs it
 * (migrations, a projection rebuild). PostgreSQL: a session advisory lock on a connection reserved for
 * the duration (the effect's own statements use other connections of the pool); waiters block until it
 * is released, also when the holder's process dies (its session ends). SQLite: `effect` as it is, its
 * file lock and single writer already serialize what it writes.
 */
export const withAdvisoryLock =
  (sql: SqlClient.SqlClient, name: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
    sql.onDialectOrElse({
      pg: () =>
        Effect.scoped(
          Effect.gen(function* () {
            const connection = yield* sql.reserve
            yield* connection.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", [name], undefined)
            return yield* Effect.ensuring(
              effect,
              Effect.ignore(connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [name], undefined))
            )
          })
        ),
      orElse: () => effect
    })
