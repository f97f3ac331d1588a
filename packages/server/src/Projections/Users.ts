import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Match } from "effect"
import type { Projection } from "./Projection.js"
import { iso } from "./Projection.js"

/** `users`: one row per registered, not deleted account. */
export const UsersProjection: Projection = {
  name: "users",
  version: 1,
  table: "users",
  create: (table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`CREATE TABLE ${sql(table)} (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        password_changed_at TEXT NOT NULL,
        is_active INTEGER NOT NULL,
        key_count INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`
    ),
  indexes: () => Effect.void,
  apply: ({ event }, table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql): Effect.Effect<unknown, SqlError> =>
        Match.value(event).pipe(
          Match.tag(
            "UserRegistered",
            (e) =>
              sql`INSERT INTO ${sql(table)} ${sql.insert({
                id: e.userId,
                email: e.email,
                password_hash: e.passwordHash,
                password_changed_at: iso(e.at),
                is_active: 1,
                key_count: 0,
                created_at: iso(e.at),
                updated_at: iso(e.at)
              })}`
          ),
          Match.tag(
            "PasswordChanged",
            (e) => sql`UPDATE ${sql(table)} SET password_hash = ${e.passwordHash}, password_changed_at = ${iso(e.at)},
            updated_at = ${iso(e.at)} WHERE id = ${e.userId}`
          ),
          Match.tag("UserDeleted", (e) => sql`DELETE FROM ${sql(table)} WHERE id = ${e.userId}`),
          Match.tag(
            "KeyAttached",
            (e) => sql`UPDATE ${sql(table)} SET key_count = key_count + 1 WHERE id = ${e.userId}`
          ),
          Match.tag(
            "KeyDetached",
            (e) => sql`UPDATE ${sql(table)} SET key_count = key_count - 1 WHERE id = ${e.userId}`
          ),
          Match.orElse(() => Effect.void)
        )
    )
}
