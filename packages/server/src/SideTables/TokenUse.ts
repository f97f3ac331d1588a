import { SqlClient } from "@effect/sql"
import { DateTime, Duration, Effect } from "effect"

/**
 * `token_usage`: when each API token was last used. A public-API request appends no event (design.md
 * section 2), so this is written coarsely, at most once per {@link LAST_USED_RESOLUTION}. The only
 * module that reads or writes the table.
 */

/** A token's last use is written at most this often. */
export const LAST_USED_RESOLUTION = Duration.minutes(1)
export const LAST_USED_MILLIS = Duration.toMillis(LAST_USED_RESOLUTION)

/** The last use of each of `tokenIds` that was used. */
export const lastUsed = (tokenIds: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    tokenIds.length === 0
      ? Effect.succeed([])
      : sql<{ token_id: string; last_used_at: string }>`SELECT token_id, last_used_at FROM token_usage
          WHERE ${sql.in("token_id", tokenIds)}`
  ).pipe(
    Effect.map((rows) => new Map(rows.map((r) => [r.token_id, r.last_used_at]))),
    Effect.orDie
  )

/** Notes a use of the token at `now`, unless one was noted within the resolution. */
export const touch = (tokenId: string, lastUsedAt: string | null, now: DateTime.Utc) => {
  const stale = DateTime.formatIso(DateTime.subtractDuration(now, LAST_USED_RESOLUTION))
  if (lastUsedAt !== null && lastUsedAt > stale) return Effect.void
  return Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO token_usage (token_id, last_used_at) VALUES (${tokenId}, ${DateTime.formatIso(now)})
      ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at
      WHERE token_usage.last_used_at <= ${stale}`
  ).pipe(Effect.asVoid, Effect.orDie)
}
