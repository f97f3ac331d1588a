import { Either, Match } from "effect"
import { validName } from "../ApiKey/Decider.js"
import {
  AlreadyExists,
  type CommandRejections,
  InvalidName,
  TokenForbidden,
  TokenNotFound,
  UserNotFound
} from "../Errors.js"
import type { ApiTokenId, UserId } from "../Ids.js"
import type { UserState } from "../User/Decider.js"
import type { ApiTokenCommand, IssueToken, RevokeToken } from "./Commands.js"
import type { ApiTokenEvent } from "./Events.js"
import { TokenIssued, TokenRevoked } from "./Events.js"

export type ApiTokenState =
  | { readonly _tag: "NotIssued" }
  | { readonly _tag: "Active"; readonly tokenId: ApiTokenId; readonly userId: UserId }
  | { readonly _tag: "Revoked"; readonly tokenId: ApiTokenId; readonly userId: UserId }

export const initialApiTokenState = (): ApiTokenState => ({ _tag: "NotIssued" })

/** A revoked token stays revoked: no event leads out of `Revoked`. */
export const evolveApiToken = (state: ApiTokenState, event: ApiTokenEvent): ApiTokenState =>
  event._tag === "TokenIssued"
    ? state._tag === "NotIssued"
      ? { _tag: "Active", tokenId: event.tokenId, userId: event.userId }
      : state
    : { _tag: "Revoked", tokenId: event.tokenId, userId: event.userId }

export interface ApiTokenContext {
  readonly user: UserState
  readonly token: ApiTokenState
}

export type ApiTokenDecideError = AlreadyExists | InvalidName | TokenForbidden | TokenNotFound | UserNotFound
/** The decision of one command, refused only with what {@link CommandRejections} lists for it. */
type Decision<C extends ApiTokenCommand["_tag"] = ApiTokenCommand["_tag"]> = Either.Either<
  ReadonlyArray<ApiTokenEvent>,
  CommandRejections[C]
>

const issueToken = (cmd: IssueToken, ctx: ApiTokenContext): Decision<"IssueToken"> => {
  if (ctx.token._tag !== "NotIssued") return Either.left(new AlreadyExists())
  if (ctx.user._tag !== "Registered" || ctx.user.userId !== cmd.userId) return Either.left(new UserNotFound())
  if (!validName(cmd.name)) return Either.left(new InvalidName())
  const { tokenId, userId, name, tokenHash, at } = cmd
  return Either.right([new TokenIssued({ tokenId, userId, name, tokenHash, at })])
}

/** Revoking an unknown or already revoked token is a 404, as the contract says. */
const revokeToken = (cmd: RevokeToken, ctx: ApiTokenContext): Decision<"RevokeToken"> => {
  if (ctx.token._tag !== "Active") return Either.left(new TokenNotFound())
  if (ctx.token.userId !== cmd.userId) return Either.left(new TokenForbidden())
  return Either.right([new TokenRevoked({ tokenId: cmd.tokenId, userId: cmd.userId, at: cmd.at })])
}

export const decideApiToken = (cmd: ApiTokenCommand, ctx: ApiTokenContext): Decision =>
  Match.value(cmd).pipe(
    Match.tagsExhaustive({
      IssueToken: (c) => issueToken(c, ctx),
      RevokeToken: (c) => revokeToken(c, ctx)
    })
  )
