import { UserId } from "@orw/domain"
import { Clock, DateTime, Effect, Option, Redacted } from "effect"
import * as Users from "../Projections/Users.js"
import * as EndedSessions from "../SideTables/EndedSessions.js"
import { endedBy, Jwt } from "./Jwt.js"

/**
 * The user of a session token when the session still stands: the JWT verifies, it was not
 * logged out (its `jti` is not in `ended_sessions`), the user exists, and they have not changed
 * their password since it was issued. One rule for the JSON API (bearer or cookie) and the web
 * RPC (cookie).
 */
export const sessionUser = (token: Redacted.Redacted<string> | string) =>
  Effect.gen(function* () {
    const value = typeof token === "string" ? token : Redacted.value(token)
    if (value === "") return Option.none<UserId>()
    const jwt = yield* Jwt
    const session = yield* Effect.option(jwt.verify(value))
    if (Option.isNone(session)) return Option.none<UserId>()
    if (yield* EndedSessions.isEnded(session.value.tokenId)) return Option.none<UserId>()
    const user = yield* Users.byId(session.value.userId)
    const changedAt = Option.flatMap(user, (u) => DateTime.make(u.passwordChangedAt))
    return Option.isNone(changedAt) || endedBy(session.value, changedAt.value)
      ? Option.none<UserId>()
      : Option.some(UserId.make(session.value.userId))
  })

/**
 * Ends the session a token carries (a logout): from now on {@link sessionUser} refuses it, as bearer, cookie
 * or on /rpc. A token that does not verify ends nothing.
 */
export const endSession = (token: Redacted.Redacted<string> | string) =>
  Effect.gen(function* () {
    const jwt = yield* Jwt
    const session = yield* Effect.option(jwt.verify(token))
    if (Option.isNone(session)) return
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    yield* EndedSessions.end(session.value.tokenId, session.value.userId, session.value.expiresAt, now)
  })
