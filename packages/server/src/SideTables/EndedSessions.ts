import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * `ended_sessions`: the sessions (JWT `jti`) ended by a logout, each kept until its token expires. The only
 * module that reads or writes the table. (A password change or an account deletion ends every session of
 * the user by other means: `Sessions.sessionUser` compares the token with the user's row.)
 */

/** Ends the session `sessionId` of `userId`, whose token expires at `expiresAt` (seconds); forgets expired ones. */
export const end = (sessionId: string, userId: string, expiresAt: number, nowSeconds: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(
      Effect.zipRight(
        sql`DELETE FROM ended_sessions WHERE expires_at < ${nowSeconds}`,
        sql`INSERT INTO ended_sessions (session_id, user_id, expires_at) VALUES (${sessionId}, ${userId}, ${expiresAt})
          ON CONFLICT (session_id) DO NOTHING`
      )
    )
  ).pipe(Effect.asVoid, Effect.orDie)

/** Whether the session was ended by a logout. */
export const isEnded = (sessionId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ n: number }>`SELECT 1 AS n FROM ended_sessions WHERE session_id = ${sessionId}`
  ).pipe(
    Effect.map((rows) => rows.length > 0),
    Effect.orDie
  )
