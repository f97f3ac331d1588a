import { Schema } from "effect"
import { ApiTokenId, UserId } from "../Ids.js"

export class IssueToken extends Schema.TaggedClass<IssueToken>()("IssueToken", {
  tokenId: ApiTokenId,
  userId: UserId,
  name: Schema.String,
  tokenHash: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class RevokeToken extends Schema.TaggedClass<RevokeToken>()("RevokeToken", {
  tokenId: ApiTokenId,
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export const ApiTokenCommand = Schema.Union(IssueToken, RevokeToken)
export type ApiTokenCommand = typeof ApiTokenCommand.Type
