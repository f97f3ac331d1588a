import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Identifier } from "@effect/sql/Statement"
import type { DomainEvent } from "@orw/domain"
import { Effect } from "effect"
import type { StoredEvent } from "../EventStore.js"

/**
 * One read model: a table built from the log alone. Rebuilds create the table under
 * another name, replay into it and swap it in, so `create` and `apply` take the name.
 */
export interface Projection {
  readonly name: string
  /** Raise it when `create` or `apply` change: the projection is rebuilt at start. */
  readonly version: number
  readonly table: string
  readonly create: (table: string) => Effect.Effect<void, SqlError, SqlClient.SqlClient>
  /** Indexes, created once the table has its final name. */
  readonly indexes: (table: string) => Effect.Effect<void, SqlError, SqlClient.SqlClient>
  readonly apply: (stored: StoredEvent, table: string) => Effect.Effect<void, SqlError, SqlClient.SqlClient>
}

type Tag = DomainEvent["_tag"]
type EventOf<T extends Tag> = Extract<DomainEvent, { readonly _tag: T }>

/** The SQL client and the (quoted) name of the table being written, which differs during a rebuild. */
export interface Target {
  readonly sql: SqlClient.SqlClient
  readonly table: Identifier
}

/** What a projection does with the events it cares about; the others leave it unchanged. */
export type Handlers = { readonly [T in Tag]?: (event: EventOf<T>, target: Target) => Effect.Effect<unknown, SqlError> }

/**
 * A projection from its DDL and one handler per event type it reads. The boilerplate every read model
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
  return {
    name: spec.name,
    version: spec.version,
    table: spec.table,
    create: (table) => Effect.asVoid(Effect.flatMap(target(table), spec.create)),
    indexes: (table) =>
      Effect.flatMap(target(table), (t) =>
        Effect.all(spec.indexes?.({ ...t, name: (suffix) => t.sql(`${table}_${suffix}`) }) ?? [], { discard: true })
      ),
    apply: ({ event }, table) => {
      const handler = spec.on[event._tag] as
        | ((event: DomainEvent, target: Target) => Effect.Effect<unknown, SqlError>)
        | undefined
      return handler === undefined
        ? Effect.void
        : Effect.asVoid(Effect.flatMap(target(table), (t) => handler(event, t)))
    }
  }
}

/** ISO 8601 UTC of an event time. */
export { formatIso as iso } from "effect/DateTime"

/** SQLite has no boolean: flags are stored 0/1. */
export const flag = (value: boolean): number => (value ? 1 : 0)
