import { HttpApiBuilder } from "@effect/platform"
import { CurrentUser, OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"
import { Keys } from "../App/Keys.js"
import { requestOrigin } from "./RequestContext.js"

/** /api/keys: the signed-in user's OpenRouter keys. */
export const KeysHandlers = HttpApiBuilder.group(OrwApi, "keys", (handlers) =>
  Effect.gen(function* () {
    const keys = yield* Keys
    return handlers
      .handle("list", () => Effect.flatMap(CurrentUser, (user) => keys.list(user.userId)))
      .handle("add", ({ payload, headers }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          const input = { name: payload.name, key: payload.key, idempotencyKey: headers["idempotency-key"] }
          return yield* keys.add(user.userId, input, yield* requestOrigin())
        })
      )
      .handle("update", ({ path, payload }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          const change = { name: payload.name, isActive: payload.is_active }
          return yield* keys.update(user.userId, path.id, change, yield* requestOrigin())
        })
      )
      .handle("remove", ({ path }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          yield* keys.remove(user.userId, path.id, yield* requestOrigin())
        })
      )
      .handle("setLimit", ({ path, payload }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          const change = { limit: payload.limit, limitReset: payload.limit_reset }
          return yield* keys.setLimit(user.userId, path.id, change, yield* requestOrigin())
        })
      )
      .handle("sync", ({ path }) =>
        Effect.gen(function* () {
          const user = yield* CurrentUser
          return yield* keys.sync(user.userId, path.id, yield* requestOrigin())
        })
      )
  })
)
