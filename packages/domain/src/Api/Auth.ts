import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ConcurrencyConflict, EmailAlreadyRegistered, InvalidCredentials, InvalidEmail, ServerBusy } from "../Errors.js"
import { UserId } from "../Ids.js"
import { json } from "./Errors.js"
import { AuthRateLimit, SessionAuth } from "./Security.js"

/** A password on the wire: redacted as soon as it is decoded, so it never reaches a log. */
export const Password = Schema.Redacted(Schema.String)

export class RegisterRequest extends Schema.Class<RegisterRequest>("RegisterRequest")({
  email: Schema.String,
  password: Password,
  password_confirm: Password
}) {}

/** An account as clients see it. */
export class UserResponse extends Schema.Class<UserResponse>("UserResponse")({
  id: UserId,
  email: Schema.String,
  created_at: Schema.String
}) {}

export class LoginRequest extends Schema.Class<LoginRequest>("LoginRequest")({
  email: Schema.String,
  password: Password
}) {}

/** A session: the JWT and its lifetime in seconds. The same JWT is set as the session cookie. */
export class SessionResponse extends Schema.Class<SessionResponse>("SessionResponse")({
  access_token: Schema.String,
  token_type: Schema.Literal("bearer"),
  expires_in: Schema.Int
}) {}

/** Register, log in and out. */
export class AuthApi extends HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("register", "/api/auth/register")
      .setPayload(RegisterRequest)
      .addSuccess(UserResponse, { status: 201 })
      .addError(json(EmailAlreadyRegistered))
      .addError(json(InvalidEmail))
      .addError(json(ConcurrencyConflict))
      .addError(json(ServerBusy))
      .middleware(AuthRateLimit)
      .annotate(OpenApi.Summary, "Create an account (password: 12+ chars, upper, lower, digit, special)")
  )
  .add(
    HttpApiEndpoint.post("login", "/api/auth/login")
      .setPayload(LoginRequest)
      .addSuccess(SessionResponse)
      .addError(json(InvalidCredentials))
      .addError(json(ServerBusy))
      .middleware(AuthRateLimit)
      .annotate(OpenApi.Summary, "Log in: returns the JWT and sets the HttpOnly session cookie")
  )
  .add(
    HttpApiEndpoint.post("logout", "/api/auth/logout")
      .addSuccess(HttpApiSchema.NoContent)
      .middleware(SessionAuth)
      .annotate(OpenApi.Summary, "Log out: clears the session cookie")
  ) {}
