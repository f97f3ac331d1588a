import { type DashboardQuery, WebRpcs } from "@orw/domain/Rpc"
import { Effect } from "effect"
import { Accounts } from "../App/Accounts.js"
import { Keys } from "../App/Keys.js"
import { Tokens } from "../App/Tokens.js"
import { dashboard } from "./Dashboard.js"
import { caller } from "./Support.js"

/**
 * Every handler of {@link WebRpcs}, acting as the user the session middleware provides. The work is
 * the application services' (the same as the JSON API's), and so are their refusals, sent with their tags;
 * only the dashboard's read is the RPC's own.
 */
export const WebRpcHandlers = WebRpcs.toLayer(
  Effect.gen(function* () {
    const accounts = yield* Accounts
    const keys = yield* Keys
    const tokens = yield* Tokens

    return WebRpcs.of({
      me: () => Effect.flatMap(caller, ({ userId }) => accounts.me(userId)),
      dashboard: (query: DashboardQuery) => Effect.flatMap(caller, ({ userId }) => dashboard(userId, query)),
      listKeys: () => Effect.flatMap(caller, ({ userId }) => Effect.map(keys.list(userId), (list) => list.items)),
      addKey: ({ name, key }) =>
        Effect.flatMap(caller, ({ userId, origin }) => keys.add(userId, { name, key }, origin)),
      renameKey: ({ key_id, name }) =>
        Effect.flatMap(caller, ({ userId, origin }) => keys.update(userId, key_id, { name }, origin)),
      setKeyActive: ({ key_id, is_active }) =>
        Effect.flatMap(caller, ({ userId, origin }) => keys.update(userId, key_id, { isActive: is_active }, origin)),
      deleteKey: ({ key_id }) => Effect.flatMap(caller, ({ userId, origin }) => keys.remove(userId, key_id, origin)),
      syncKey: ({ key_id }) => Effect.flatMap(caller, ({ userId, origin }) => keys.sync(userId, key_id, origin)),
      listTokens: () => Effect.flatMap(caller, ({ userId }) => Effect.map(tokens.list(userId), (list) => list.items)),
      createToken: ({ name }) =>
        Effect.flatMap(caller, ({ userId, origin }) => tokens.create(userId, { name }, origin)),
      revokeToken: ({ token_id }) =>
        Effect.flatMap(caller, ({ userId, origin }) => tokens.revoke(userId, token_id, origin)),
      changePassword: (input) =>
        Effect.flatMap(caller, ({ userId, origin }) =>
          accounts.changePassword(
            userId,
            { current: input.current_password, next: input.new_password, confirm: input.new_password_confirm },
            origin
          )
        ).pipe(Effect.asVoid),
      deleteAccount: ({ password }) =>
        Effect.flatMap(caller, ({ userId, origin }) => accounts.deleteAccount(userId, password, origin))
    })
  })
)
