import { SqlClient } from "@effect/sql"
import { ApiTokenId, UserId } from "@orw/domain"
import { Effect } from "effect"
import { defineProjection, deleteWhere, insert, write } from "./Projection.js"

/**
 * `api_tokens`: issued tokens by SHA-256. Revoked tokens stay listed as inactive; their last use lives
 * in the `token_usage` side table, outside the log.
 */
export const ApiTokensProjection = defineProjection({
  name: "api_tokens",
  version: 1,
  table: "api_tokens",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  )`,
  indexes: ({ sql, table, name }) => [
    sql`CREATE INDEX ${name("by_user")} ON ${table} (user_id)`,
    sql`CREATE INDEX ${name("by_hash")} ON ${table} (token_hash)`
  ],
  on: {
    TokenIssued: insert({
      id: (e) => e.tokenId,
      user_id: (e) => e.userId,
      name: (e) => e.name,
      token_hash: (e) => e.tokenHash,
      is_active: () => 1,
      created_at: (_, at) => at
    }),
    TokenRevoked: write(
      (t) => `UPDATE ${t} SET is_active = 0, revoked_at = ? WHERE id = ?`,
      (e, at) => [at, e.tokenId]
    ),
    UserDeleted: deleteWhere("user_id", (e) => e.userId)
  }
})

/* ---- Queries: every read of `api_tokens` lives below. ---- */

/** A token as its owner sees it (never its value or hash). */
export interface TokenRecord {
  readonly id: ApiTokenId
  readonly name: string
  readonly createdAt: string
  readonly isActive: boolean
  readonly revokedAt: string | null
}

/** The user's tokens, newest first, revoked ones included. */
export const ofUser = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ id: string; name: string; created_at: string; is_active: number; revoked_at: string | null }>`
      SELECT id, name, created_at, is_active, revoked_at FROM api_tokens WHERE user_id = ${userId}
      ORDER BY created_at DESC, id`
  ).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): TokenRecord => ({
          id: ApiTokenId.make(r.id),
          name: r.name,
          createdAt: r.created_at,
          isActive: Number(r.is_active) === 1,
          revokedAt: r.revoked_at
        })
      )
    ),
    Effect.orDie
  )

/** Active tokens with this SHA-256 (the caller compares the hash again in constant time). */
export const activeByHash = (hash: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ id: string; user_id: string; token_hash: string }>`SELECT id, user_id, token_hash FROM api_tokens
      WHERE token_hash = ${hash} AND is_active = 1`
  ).pipe(
    Effect.map((rows) =>
      rows.map((r) => ({ id: ApiTokenId.make(r.id), userId: UserId.make(r.user_id), tokenHash: r.token_hash }))
    ),
    Effect.orDie
  )
