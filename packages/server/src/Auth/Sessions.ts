import { UserId } from "@orw/domain"
import { DateTime, Effect, Option, Redacted } from "effect"
import * as Users from "../Projections/Users.js"
import { endedBy, Jwt } from "./Jwt.js"

/**
 * The user of a session token when the session still stands: the JWT verifies, the user
 * exists, and they have not changed their password since it was issued. One rule for the
 * JSON API (bearer or cookie) and the web RPC (cookie).
 */
export const sessionUser = (token: Redacted.Redacted<string> | string) =>
  Effect.gen(function* () {
    const value = typeof token === "string" ? token : Redacted.value(token)
    if (value === "") return Option.none<UserId>()
    const jwt = yield* Jwt
    const session = yield* Effect.option(jwt.verify(value))
    if (Option.isNone(session)) return Option.none<UserId>()
    const user = yield* Users.byId(session.value.userId)
    const changedAt = Option.flatMap(user, (u) => DateTime.make(u.passwordChangedAt))
    return Option.isNone(changedAt) || endedBy(session.value, changedAt.value)
      ? Option.none<UserId>()
      : Option.some(UserId.make(session.value.userId))
  })
