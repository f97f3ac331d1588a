import { Schema } from "effect"
import { ApiTokenId, UserId } from "../Ids.js"

/** Only the SHA-256 hex of the token is ever kept. */
export class TokenIssued extends Schema.TaggedClass<TokenIssued>()("TokenIssued", {
  tokenId: ApiTokenId,
  userId: UserId,
  name: Schema.String,
  tokenHash: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class TokenRevoked extends Schema.TaggedClass<TokenRevoked>()("TokenRevoked", {
  tokenId: ApiTokenId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export const ApiTokenEvent = Schema.Union(TokenIssued, TokenRevoked)
export type ApiTokenEvent = typeof ApiTokenEvent.Type
