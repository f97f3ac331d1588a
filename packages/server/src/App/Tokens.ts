import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { ApiTokenCommands, ApiTokenId, UserId } from "@orw/domain"
import { CreatedToken, TokenList, TokenRow } from "@orw/domain/Api"
import { DateTime, Duration, Effect, Option, Redacted } from "effect"
import { API_TOKEN_FORMAT, generateApiToken, hashApiToken, sameHash } from "../Auth/ApiTokens.js"
import { Dispatcher } from "../Dispatcher.js"
import { alreadyDone, idempotentId } from "../Idempotency.js"
import { answer, contractError } from "./Errors.js"
import { metadataOf, type Origin } from "./Origin.js"

/** A token's last use is written at most this often (to `token_usage`, never as an event). */
export const LAST_USED_RESOLUTION = Duration.minutes(1)

interface TokenRecord {
  readonly id: string
  readonly name: string
  readonly created_at: string
  readonly is_active: number
  readonly revoked_at: string | null
  readonly last_used_at: string | null
}

/** Who a valid public-API token acts for. */
export interface TokenOwner {
  readonly tokenId: string
  readonly userId: string
}

/** Public-API tokens: issued once (only their SHA-256 is kept), listed, revoked, and checked per request. */
export class Tokens extends Effect.Service<Tokens>()("orw/App/Tokens", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const dispatcher = yield* Dispatcher

    /** Issues a token; its value is in this answer only. A repeated Idempotency-Key is a 409: it can't be shown again. */
    const create = Effect.fn("Tokens.create")(function* (
      userId: string,
      input: { readonly name: string; readonly idempotencyKey?: string | undefined },
      origin: Origin
    ) {
      const namespaced =
        input.idempotencyKey === undefined ? undefined : `user:${userId}:tokens:${input.idempotencyKey}`
      if (namespaced !== undefined && (yield* alreadyDone(namespaced))) {
        return yield* Effect.fail(
          contractError(409, "A token was already issued for this Idempotency-Key; its value is shown only once")
        )
      }
      const tokenId = ApiTokenId.make(namespaced === undefined ? NodeCrypto.randomUUID() : idempotentId(namespaced))
      const { token, hash } = generateApiToken()
      const at = yield* DateTime.now
      const name = input.name.trim()
      yield* dispatcher
        .dispatch(
          new ApiTokenCommands.IssueToken({ tokenId, userId: UserId.make(userId), name, tokenHash: hash, at }),
          {
            metadata: metadataOf(origin, userId),
            idempotencyKey: namespaced
          }
        )
        .pipe(answer(400, 404, 409))
      return new CreatedToken({ id: tokenId, name, token: Redacted.value(token), created_at: DateTime.formatIso(at) })
    })

    /** The user's tokens, newest first, revoked ones included (inactive); never their values. */
    const list = Effect.fn("Tokens.list")(function* (userId: string) {
      const rows = yield* sql<TokenRecord>`SELECT t.id, t.name, t.created_at, t.is_active, t.revoked_at, u.last_used_at
        FROM api_tokens t LEFT JOIN token_usage u ON u.token_id = t.id
        WHERE t.user_id = ${userId} ORDER BY t.created_at DESC, t.id`.pipe(Effect.orDie)
      return new TokenList({
        items: rows.map(
          (r) =>
            new TokenRow({
              id: r.id,
              name: r.name,
              created_at: r.created_at,
              last_used_at: r.last_used_at,
              is_active: r.is_active === 1,
              revoked_at: r.revoked_at
            })
        )
      })
    })

    /** Revokes a token: the next request with it is refused. Unknown or already revoked: 404. */
    const revoke = Effect.fn("Tokens.revoke")(function* (userId: string, tokenId: string, origin: Origin) {
      const command = new ApiTokenCommands.RevokeToken({
        tokenId: ApiTokenId.make(tokenId),
        userId: UserId.make(userId),
        at: yield* DateTime.now
      })
      yield* dispatcher.dispatch(command, { metadata: metadataOf(origin, userId) }).pipe(answer(403, 404, 409))
    })

    /**
     * The owner of an active token, found by its SHA-256 and compared in constant time. Its last use is
     * written at most once per {@link LAST_USED_RESOLUTION}.
     */
    const authenticate = Effect.fn("Tokens.authenticate")(function* (token: Redacted.Redacted<string>) {
      if (!API_TOKEN_FORMAT.test(Redacted.value(token))) return Option.none<TokenOwner>()
      const hash = hashApiToken(token)
      const rows = yield* sql<{ id: string; user_id: string; token_hash: string; last_used_at: string | null }>`
        SELECT t.id, t.user_id, t.token_hash, u.last_used_at FROM api_tokens t
        LEFT JOIN token_usage u ON u.token_id = t.id WHERE t.token_hash = ${hash} AND t.is_active = 1`.pipe(
        Effect.orDie
      )
      const row = rows.find((r) => sameHash(r.token_hash, hash))
      if (row === undefined) return Option.none<TokenOwner>()
      const now = yield* DateTime.now
      const stale = DateTime.formatIso(DateTime.subtractDuration(now, LAST_USED_RESOLUTION))
      if (row.last_used_at === null || row.last_used_at <= stale) {
        yield* sql`INSERT INTO token_usage (token_id, last_used_at) VALUES (${row.id}, ${DateTime.formatIso(now)})
          ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at
          WHERE token_usage.last_used_at <= ${stale}`.pipe(Effect.orDie)
      }
      return Option.some<TokenOwner>({ tokenId: row.id, userId: row.user_id })
    })

    return { create, list, revoke, authenticate } as const
  })
}) {}
