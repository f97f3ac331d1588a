import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Context, Schema } from "effect"
import type { UserId } from "../Ids.js"
import { json, TooManyRequests, Unauthenticated } from "./Errors.js"

/** The session cookie: HttpOnly, SameSite=Strict, Secure over https. It holds the same JWT as the bearer. */
export const SESSION_COOKIE = "orw_session"

/** Who the request acts for: set by {@link SessionAuth} or {@link ApiTokenAuth}. */
export class CurrentUser extends Context.Tag("orw/Api/CurrentUser")<
  CurrentUser,
  {
    readonly userId: UserId
    /** How the request authenticated: a session (bearer JWT or cookie) or a public-API token. */
    readonly via: "bearer" | "cookie" | "token"
  }
>() {}

/**
 * A session: `Authorization: Bearer <jwt>` or the session cookie. A JWT issued before the user's last
 * password change, or for a deleted user, is refused; API tokens are refused here.
 */
export class SessionAuth extends HttpApiMiddleware.Tag<SessionAuth>()("orw/Api/SessionAuth", {
  failure: json(Unauthenticated),
  provides: CurrentUser,
  security: {
    bearer: HttpApiSecurity.bearer,
    cookie: HttpApiSecurity.apiKey({ in: "cookie", key: SESSION_COOKIE })
  }
}) {}

/**
 * A public-API token (`Authorization: Bearer or_api_...`), rate limited per token; every answer carries
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. Session JWTs are refused here.
 */
export class ApiTokenAuth extends HttpApiMiddleware.Tag<ApiTokenAuth>()("orw/Api/ApiTokenAuth", {
  failure: Schema.Union(json(Unauthenticated), json(TooManyRequests)),
  provides: CurrentUser,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/** AUTH_RATE_LIMIT_PER_MINUTE per client IP on login and register. */
export class AuthRateLimit extends HttpApiMiddleware.Tag<AuthRateLimit>()("orw/Api/AuthRateLimit", {
  failure: json(TooManyRequests)
}) {}
