import { Cookies } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { UserId } from "@orw/domain"
import { SESSION_COOKIE } from "@orw/domain/Api"
import { SessionAuth, Unauthenticated } from "@orw/domain/Rpc"
import { DateTime, Effect, Layer, Option } from "effect"
import { endedBy, Jwt } from "../Auth/Jwt.js"

const NOT_AUTHENTICATED = "Not authenticated"
const INVALID_SESSION = "Invalid or expired session, please sign in again"

/**
 * The user of a session token, if it verifies and the session still stands: the user exists and
 * has not changed their password since the token was issued (the same rule as the JSON API's).
 */
export const sessionUser = (token: string) =>
  Effect.gen(function* () {
    const jwt = yield* Jwt
    const sql = yield* SqlClient.SqlClient
    const session = yield* jwt.verify(token)
    const rows = yield* sql<{ password_changed_at: string }>`SELECT password_changed_at FROM users
      WHERE id = ${session.userId}`.pipe(Effect.orDie)
    const changedAt = Option.fromNullable(rows[0]).pipe(Option.flatMap((row) => DateTime.make(row.password_changed_at)))
    if (Option.isNone(changedAt) || endedBy(session, changedAt.value)) {
      return yield* new Unauthenticated({ detail: INVALID_SESSION })
    }
    return UserId.make(session.userId)
  }).pipe(Effect.catchTag("InvalidSession", () => new Unauthenticated({ detail: INVALID_SESSION })))

/**
 * {@link SessionAuth} over the session cookie of the HTTP request that carried the call (the RPC
 * server hands the request's headers to the middleware). Only the cookie counts: the web UI never
 * holds the token itself.
 */
export const SessionAuthLive = Layer.effect(
  SessionAuth,
  Effect.map(Effect.context<Jwt | SqlClient.SqlClient>(), (context) =>
    SessionAuth.of(({ headers }) => {
      const token = Cookies.parseHeader(headers.cookie ?? "")[SESSION_COOKIE]
      return token === undefined || token === ""
        ? Effect.fail(new Unauthenticated({ detail: NOT_AUTHENTICATED }))
        : sessionUser(token).pipe(
            Effect.map((userId) => ({ userId })),
            Effect.provide(context)
          )
    })
  )
)
