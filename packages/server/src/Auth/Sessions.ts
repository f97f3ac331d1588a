import { SqlClient } from "@effect/sql"
import { UserId } from "@orw/domain"
import { DateTime, Effect, Option, Redacted } from "effect"
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
    const sql = yield* SqlClient.SqlClient
    const session = yield* Effect.option(jwt.verify(value))
    if (Option.isNone(session)) return Option.none<UserId>()
    const rows = yield* sql<{ password_changed_at: string }>`SELECT password_changed_at FROM users
      WHERE id = ${session.value.userId}`.pipe(Effect.orDie)
    const changedAt = Option.fromNullable(rows[0]).pipe(Option.flatMap((row) => DateTime.make(row.password_changed_at)))
    return Option.isNone(changedAt) || endedBy(session.value, changedAt.value)
      ? Option.none<UserId>()
      : Option.some(UserId.make(session.value.userId))
  })
