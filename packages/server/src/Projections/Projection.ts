import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Identifier } from "@effect/sql/Statement"
import type { DomainEvent } from "@orw/domain"
import { Effect } from "effect"

type Tag = DomainEvent["_tag"]
type EventOf<T extends Tag> = Extract<DomainEvent, { readonly _tag: T }>

/**
 * What a write reads of an event: its fields, its time as ISO 8601 UTC text (`at`, given apart). The
 * inline apply passes the appended event and formats its time once; the replay passes the validated JSON
 * of the log (LogReader.ts), whose `at` is that text already.
 */
export type Fields<E> = E extends unknown ? Omit<E, "at"> : never

/**
 * One statement a projection runs for an event: SQL with `?` placeholders on the table being written (its
 * quoted name, which differs during a rebuild), and the parameters it binds, in order.
 */
export interface Write<E> {
  readonly sql: (table: string) => string
  readonly params: (event: Fields<E>, at: string) => ReadonlyArray<unknown>
}

/** A write for one table: its SQL in SQLite's placeholders (`?`) and in PostgreSQL's (`$1`, `$2`...). */
export interface TableWrite {
  readonly sqlite: string
  readonly pg: string
  readonly params: (event: object, at: string) => ReadonlyArray<unknown>
}

/**
 * One read model: a table built from the log alone. Rebuilds create the table under
 * another name, replay into it and swap it in, so `create` and `writes` take the name.
 */
export interface Projection {
  readonly name: string
  /** Raise it when `create` or the writes change: the projection is rebuilt at start. */
  readonly version: number
  readonly table: string
  readonly create: (table: string) => Effect.Effect<void, SqlError, SqlClient.SqlClient>
  /** Indexes, created once the table has its final name. */
  readonly indexes: (table: string) => Effect.Effect<void, SqlError, SqlClient.SqlClient>
  /** The statement each event type writes to `table` (the types it ignores have none). */
  readonly writes: (table: string) => ReadonlyMap<string, TableWrite>
}

/** The SQL client and the (quoted) name of the table being written, which differs during a rebuild. */
export interface Target {
  readonly sql: SqlClient.SqlClient
  readonly table: Identifier
}

/** What a projection does with the events it cares about; the others leave it unchanged. */
export type Handlers = { readonly [T in Tag]?: Write<EventOf<T>> }

/** `?` to `$1`, `$2`...: the statements hold no `?` but their placeholders (no literal text, no JSON operator). */
export const toPg = (sqlite: string) => {
  let n = 0
  return sqlite.replace(/\?/g, () => `$${++n}`)
}

/** A table's name as SQLite and PostgreSQL quote it. */
const quote = (table: string) => `"${table.replace(/"/g, '""')}"`

/**
 * A projection from its DDL and one write per event type it reads. The boilerplate every read model
 * shared (client lookup, matching on the event's tag, ignoring the rest) lives here once.
 */
export const defineProjection = (spec: {
  readonly name: string
  readonly version: number
  readonly table: string
  readonly create: (target: Target) => Effect.Effect<unknown, SqlError>
  readonly indexes?: (
    target: Target & { readonly name: (suffix: string) => Identifier }
  ) => ReadonlyArray<Effect.Effect<unknown, SqlError>>
  readonly on: Handlers
}): Projection => {
  const target = (table: string) => Effect.map(SqlClient.SqlClient, (sql): Target => ({ sql, table: sql(table) }))
  const compiled = new Map<string, ReadonlyMap<string, TableWrite>>()
  return {
    name: spec.name,
    version: spec.version,
    table: spec.table,
    create: (table) => Effect.asVoid(Effect.flatMap(target(table), spec.create)),
    indexes: (table) =>
      Effect.flatMap(target(table), (t) =>
        Effect.all(spec.indexes?.({ ...t, name: (suffix) => t.sql(`${table}_${suffix}`) }) ?? [], { discard: true })
      ),
    writes: (table) => {
      const known = compiled.get(table)
      if (known !== undefined) return known
      const writes = new Map<string, TableWrite>()
      for (const [tag, write] of Object.entries(spec.on) as Array<[string, Write<object>]>) {
        const sqlite = write.sql(quote(table))
        writes.set(tag, { sqlite, pg: toPg(sqlite), params: write.params as TableWrite["params"] })
      }
      compiled.set(table, writes)
      return writes
    }
  }
}

/**
 * An INSERT of one row, a column and how the event gives its value per entry (in statement order), then
 * `suffix` (an ON CONFLICT clause).
 */
export const insert = <E>(
  columns: { readonly [column: string]: (event: Fields<E>, at: string) => unknown },
  suffix = ""
): Write<E> => {
  const names = Object.keys(columns)
  const values = Object.values(columns)
  return {
    sql: (table) =>
      `INSERT INTO ${table} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})${suffix === "" ? "" : ` ${suffix}`}`,
    params: (event, at) => values.map((value) => value(event, at))
  }
}

/** Any other statement: SQL on the table (with `?` placeholders) and its parameters. */
export const write = <E>(
  sql: (table: string) => string,
  params: (event: Fields<E>, at: string) => ReadonlyArray<unknown>
): Write<E> => ({ sql, params })

/** `DELETE FROM <table> WHERE <column> = ?`, the value from the event: what a deleted user, key... removes. */
export const deleteWhere = <E>(column: string, value: (event: Fields<E>) => unknown): Write<E> =>
  write(
    (table) => `DELETE FROM ${table} WHERE ${column} = ?`,
    (event) => [value(event)]
  )

/** ISO 8601 UTC of an event time. */
export { formatIso as iso } from "effect/DateTime"

/** SQLite has no boolean: flags are stored 0/1. */
export const flag = (value: boolean): number => (value ? 1 : 0)
