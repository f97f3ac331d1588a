import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { ApiTokenCommands, ApiTokenId, TokenAlreadyIssued, type UserId } from "@orw/domain"
import { CreatedToken, TokenList, TokenRow } from "@orw/domain/Api"
import { DateTime, Effect, Option, Redacted } from "effect"
import { API_TOKEN_FORMAT, generateApiToken, hashApiToken, sameHash } from "../Auth/ApiTokens.js"
import { Dispatcher } from "../Dispatcher.js"
import { alreadyDone, idempotentId } from "../Idempotency.js"
import * as ApiTokens from "../Projections/ApiTokens.js"
import * as TokenUse from "../SideTables/TokenUse.js"
import { metadataOf, type Origin } from "./Origin.js"

/** A token's last use is written at most this often (to `token_usage`, never as an event). */
export { LAST_USED_RESOLUTION } from "../SideTables/TokenUse.js"

/** Who a valid public-API token acts for. */
export interface TokenOwner {
  readonly tokenId: ApiTokenId
  readonly userId: UserId
}

/** Public-API tokens: issued once (only their SHA-256 is kept), listed, revoked, and checked per request. */
export class Tokens extends Effect.Service<Tokens>()("orw/App/Tokens", {
  effect: Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const sql = yield* SqlClient.SqlClient
    const onDatabase = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, SqlClient.SqlClient, sql)

    /** Issues a token; its value is in this answer only. A repeated Idempotency-Key is a 409: it can't be shown again. */
    const create = Effect.fn("Tokens.create")(function* (
      userId: UserId,
      input: { readonly name: string; readonly idempotencyKey?: string | undefined },
      origin: Origin
    ) {
      const namespaced =
        input.idempotencyKey === undefined ? undefined : `user:${userId}:tokens:${input.idempotencyKey}`
      if (namespaced !== undefined && (yield* alreadyDone(namespaced))) {
        return yield* new TokenAlreadyIssued()
      }
      const tokenId = ApiTokenId.make(namespaced === undefined ? NodeCrypto.randomUUID() : idempotentId(namespaced))
      const { token, hash } = generateApiToken()
      const at = yield* DateTime.now
      const name = input.name.trim()
      yield* dispatcher.dispatch(
        new ApiTokenCommands.IssueToken({ tokenId, userId: userId, name, tokenHash: hash, at }),
        {
          metadata: metadataOf(origin, userId),
          idempotencyKey: namespaced
        }
      )

      return new CreatedToken({ id: tokenId, name, token: Redacted.value(token), created_at: DateTime.formatIso(at) })
    })

    /** The user's tokens, newest first, revoked ones included (inactive); never their values. */
    const list = Effect.fn("Tokens.list")(function* (userId: UserId) {
      const tokens = yield* ApiTokens.ofUser(userId)
      const used = yield* TokenUse.lastUsed(tokens.map((t) => t.id))
      return new TokenList({
        items: tokens.map(
          (t) =>
            new TokenRow({
              id: t.id,
              name: t.name,
              created_at: t.createdAt,
              last_used_at: used.get(t.id) ?? null,
              is_active: t.isActive,
              revoked_at: t.revokedAt
            })
        )
      })
    }, onDatabase)

    /** Revokes a token: the next request with it is refused. Unknown or already revoked: 404. */
    const revoke = Effect.fn("Tokens.revoke")(function* (userId: UserId, tokenId: ApiTokenId, origin: Origin) {
      const command = new ApiTokenCommands.RevokeToken({
        tokenId: tokenId,
        userId: userId,
        at: yield* DateTime.now
      })
      yield* dispatcher.dispatch(command, { metadata: metadataOf(origin, userId) })
    })

    /**
     * The owner of an active token, found by its SHA-256 and compared in constant time. Its last use is
     * written at most once per {@link LAST_USED_RESOLUTION}.
     */
    const authenticate = Effect.fn("Tokens.authenticate")(function* (token: Redacted.Redacted<string>) {
      if (!API_TOKEN_FORMAT.test(Redacted.value(token))) return Option.none<TokenOwner>()
      const hash = hashApiToken(token)
      const row = (yield* ApiTokens.activeByHash(hash)).find((r) => sameHash(r.tokenHash, hash))
      if (row === undefined) return Option.none<TokenOwner>()
      const used = yield* TokenUse.lastUsed([row.id])
      yield* TokenUse.touch(row.id, used.get(row.id) ?? null, yield* DateTime.now)
      return Option.some<TokenOwner>({ tokenId: row.id, userId: row.userId })
    }, onDatabase)

    return { create, list, revoke, authenticate } as const
  })
}) {}
