import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Match } from "effect"
import type { Projection } from "./Projection.js"
import { iso } from "./Projection.js"

/**
 * `api_tokens`: issued tokens by SHA-256. Revoked tokens stay listed as inactive; their
 * last use lives in `token_usage`, outside the log.
 */
export const ApiTokensProjection: Projection = {
  name: "api_tokens",
  version: 1,
  table: "api_tokens",
  create: (table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`CREATE TABLE ${sql(table)} (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        is_active INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      )`
    ),
  indexes: (table) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.zipRight(
        sql`CREATE INDEX ${sql(`${table}_by_user`)} ON ${sql(table)} (user_id)`,
        sql`CREATE INDEX ${sql(`${table}_by_hash`)} ON ${sql(table)} (token_hash)`
      )
    ),
  apply: ({ event }, table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql): Effect.Effect<unknown, SqlError> =>
        Match.value(event).pipe(
          Match.tag(
            "TokenIssued",
            (e) =>
              sql`INSERT INTO ${sql(table)} ${sql.insert({
                id: e.tokenId,
                user_id: e.userId,
                name: e.name,
                token_hash: e.tokenHash,
                is_active: 1,
                created_at: iso(e.at)
              })}`
          ),
          Match.tag(
            "TokenRevoked",
            (e) => sql`UPDATE ${sql(table)} SET is_active = 0, revoked_at = ${iso(e.at)} WHERE id = ${e.tokenId}`
          ),
          Match.tag("UserDeleted", (e) => sql`DELETE FROM ${sql(table)} WHERE user_id = ${e.userId}`),
          Match.orElse(() => Effect.void)
        )
    )
}
