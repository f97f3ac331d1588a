import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { CurrentUser, OrwApi, SESSION_COOKIE, SessionResponse } from "@orw/domain/Api"
import { Effect, Redacted } from "effect"
import { Accounts, type IssuedSession } from "../App/Accounts.js"
import type { Jwt } from "../Auth/Jwt.js"
import { endSession } from "../Auth/Sessions.js"
import { requestOrigin } from "./RequestContext.js"
import { clearSessionCookie, setSessionCookie } from "./Session.js"

/** The session as the login answer shows it, with the same JWT set as the HttpOnly cookie. */
const startSession = (session: IssuedSession) =>
  Effect.as(
    setSessionCookie(session.token, session.expiresIn),
    new SessionResponse({
      access_token: Redacted.value(session.token),
      token_type: "bearer",
      expires_in: session.expiresIn
    })
  )

/** POST /api/auth/register, /login, /logout. */
export const AuthHandlers = HttpApiBuilder.group(OrwApi, "auth", (handlers) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const context = yield* Effect.context<Jwt | SqlClient.SqlClient>()
    return handlers
      .handle("register", ({ payload }) =>
        Effect.flatMap(requestOrigin(), (origin) =>
          accounts.register(
            { email: payload.email, password: payload.password, confirm: payload.password_confirm },
            origin
          )
        )
      )
      .handle("login", ({ payload }) => Effect.flatMap(accounts.login(payload.email, payload.password), startSession))
      .handle("logout", () =>
        Effect.gen(function* () {
          // The session middleware accepted the bearer token or the cookie: end that one, server-side.
          const request = yield* HttpServerRequest.HttpServerRequest
          const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]
          const token = bearer ?? request.cookies[SESSION_COOKIE]
          if (token !== undefined) yield* Effect.provide(endSession(token), context)
          yield* clearSessionCookie
        })
      )
  })
)

/** GET /api/users/me, PUT /api/users/me/password, DELETE /api/users/me. */
export const AccountHandlers = HttpApiBuilder.group(OrwApi, "account", (handlers) =>
  Effect.gen(function* () {
    const accounts = yield* Accounts
    return handlers
      .handle("me", () => Effect.flatMap(CurrentUser, (user) => accounts.me(user.userId)))
      .handle("changePassword", ({ payload }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          const change = {
            current: payload.current_password,
            next: payload.new_password,
            confirm: payload.new_password_confirm
          }
          return yield* startSession(yield* accounts.changePassword(user.userId, change, yield* requestOrigin()))
        })
      )
      .handle("deleteAccount", ({ payload }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          yield* accounts.deleteAccount(user.userId, payload.password, yield* requestOrigin())
          yield* clearSessionCookie
        })
      )
  })
)
