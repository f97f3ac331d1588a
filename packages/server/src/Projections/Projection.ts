import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { Effect } from "effect"
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

/** ISO 8601 UTC of an event time. */
export { formatIso as iso } from "effect/DateTime"
