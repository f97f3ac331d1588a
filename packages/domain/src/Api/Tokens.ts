import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  AlreadyExists,
  ConcurrencyConflict,
  InvalidName,
  TokenAlreadyIssued,
  TokenForbidden,
  TokenNotFound,
  UserNotFound
} from "../Errors.js"
import { ApiTokenId } from "../Ids.js"
import { json } from "./Errors.js"
import { IdempotencyHeaders } from "./Keys.js"
import { SessionAuth } from "./Security.js"

export class CreateTokenRequest extends Schema.Class<CreateTokenRequest>("CreateTokenRequest")({
  name: Schema.String
}) {}

/** A new token: `token` (`or_api_...`) is shown here once and never again. */
export class CreatedToken extends Schema.Class<CreatedToken>("CreatedToken")({
  id: ApiTokenId,
  name: Schema.String,
  token: Schema.String,
  created_at: Schema.String
}) {}

/** A token as listed: never its value. */
export class TokenRow extends Schema.Class<TokenRow>("TokenRow")({
  id: ApiTokenId,
  name: Schema.String,
  created_at: Schema.String,
  last_used_at: Schema.NullOr(Schema.String),
  is_active: Schema.Boolean,
  revoked_at: Schema.NullOr(Schema.String)
}) {}

export class TokenList extends Schema.Class<TokenList>("TokenList")({
  items: Schema.Array(TokenRow)
}) {}

/** Public-API tokens of the signed-in user. */
export class TokensApi extends HttpApiGroup.make("tokens")
  .add(
    HttpApiEndpoint.post("create", "/api/tokens")
      .setPayload(CreateTokenRequest)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(CreatedToken, { status: 201 })
      .addError(json(InvalidName))
      .addError(json(UserNotFound))
      .addError(json(TokenAlreadyIssued))
      .addError(json(AlreadyExists))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Create a public-API token (its value is shown once)")
  )
  .add(HttpApiEndpoint.get("list", "/api/tokens").addSuccess(TokenList).annotate(OpenApi.Summary, "List tokens"))
  .add(
    HttpApiEndpoint.del("revoke", "/api/tokens/:id")
      .setPath(Schema.Struct({ id: ApiTokenId }))
      .addSuccess(HttpApiSchema.NoContent)
      .addError(json(TokenForbidden))
      .addError(json(TokenNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Revoke a token: it stops working at once; unknown or already revoked: 404")
  )
  .middleware(SessionAuth) {}
