import { HttpApiBuilder } from "@effect/platform"
import { CurrentUser, OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"
import { Tokens } from "../App/Tokens.js"
import { requestOrigin } from "./RequestContext.js"

/** /api/tokens: the signed-in user's public-API tokens. */
export const TokensHandlers = HttpApiBuilder.group(OrwApi, "tokens", (handlers) =>
  Effect.gen(function* () {
    const tokens = yield* Tokens
    return handlers
      .handle("create", ({ payload, headers }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          const input = { name: payload.name, idempotencyKey: headers["idempotency-key"] }
          return yield* tokens.create(user.userId, input, yield* requestOrigin())
        })
      )
      .handle("list", () => Effect.flatMap(CurrentUser, (user) => tokens.list(user.userId)))
      .handle("revoke", ({ path }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          yield* tokens.revoke(user.userId, path.id, yield* requestOrigin())
        })
      )
  })
)
