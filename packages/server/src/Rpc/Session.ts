import { Cookies } from "@effect/platform"
import type { SqlClient } from "@effect/sql"
import { SESSION_COOKIE } from "@orw/domain/Api"
import { SessionAuth, Unauthenticated } from "@orw/domain/Rpc"
import { Effect, Layer, Option } from "effect"
import type { Jwt } from "../Auth/Jwt.js"
import { sessionUser } from "../Auth/Sessions.js"

const NOT_AUTHENTICATED = "Not authenticated"
const INVALID_SESSION = "Invalid or expired session, please sign in again"

/** The user of a session cookie, or `Unauthenticated` (see {@link sessionUser}). */
const cookieUser = (token: string) =>
  Effect.flatMap(sessionUser(token), (userId) =>
    Option.isSome(userId) ? Effect.succeed(userId.value) : Effect.fail(new Unauthenticated({ detail: INVALID_SESSION }))
  )

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
        : cookieUser(token).pipe(
            Effect.map((userId) => ({ userId })),
            Effect.provide(context)
          )
    })
  )
)
