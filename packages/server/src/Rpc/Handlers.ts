import { type DashboardQuery, WebRpcs } from "@orw/domain/Rpc"
import { Effect } from "effect"
import { Accounts } from "../App/Accounts.js"
import { AlertsService } from "../App/Alerts.js"
import { BudgetsService } from "../App/Budgets.js"
import { explore } from "../App/Explorer.js"
import { Keys } from "../App/Keys.js"
import { Tokens } from "../App/Tokens.js"
import { WebhooksService } from "../App/Webhooks.js"
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
    const budgets = yield* BudgetsService
    const alerts = yield* AlertsService
    const webhooks = yield* WebhooksService

    return WebRpcs.of({
      me: () => Effect.flatMap(caller, ({ userId }) => accounts.me(userId)),
      dashboard: (query: DashboardQuery) => Effect.flatMap(caller, ({ userId }) => dashboard(userId, query)),
      usage: (query) =>
        Effect.flatMap(caller, ({ userId }) =>
          explore(userId, {
            startDate: query.start_date,
            endDate: query.end_date,
            keyIds: query.key_ids,
            models: query.models,
            granularity: query.granularity,
            split: query.split
          })
        ),
      listKeys: () => Effect.flatMap(caller, ({ userId }) => Effect.map(keys.list(userId), (list) => list.items)),
      addKey: ({ name, key }) =>
        Effect.flatMap(caller, ({ userId, origin }) => keys.add(userId, { name, key }, origin)),
      renameKey: ({ key_id, name }) =>
        Effect.flatMap(caller, ({ userId, origin }) => keys.update(userId, key_id, { name }, origin)),
      setKeyActive: ({ key_id, is_active }) =>
        Effect.flatMap(caller, ({ userId, origin }) => keys.update(userId, key_id, { isActive: is_active }, origin)),
      deleteKey: ({ key_id }) => Effect.flatMap(caller, ({ userId, origin }) => keys.remove(userId, key_id, origin)),
      setKeyLimit: ({ key_id, limit, limit_reset }) =>
        Effect.flatMap(caller, ({ userId, origin }) =>
          keys.setLimit(userId, key_id, { limit, limitReset: limit_reset }, origin)
        ),
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
        Effect.flatMap(caller, ({ userId, origin }) => accounts.deleteAccount(userId, password, origin)),
      listBudgets: () => Effect.flatMap(caller, ({ userId }) => budgets.list(userId)),
      createBudget: (input) => Effect.flatMap(caller, ({ userId, origin }) => budgets.create(userId, input, origin)),
      updateBudget: ({ budget_id, amount, thresholds }) =>
        Effect.flatMap(caller, ({ userId, origin }) =>
          budgets.update(userId, budget_id, { amount, thresholds }, origin)
        ),
      deleteBudget: ({ budget_id }) =>
        Effect.flatMap(caller, ({ userId, origin }) => budgets.remove(userId, budget_id, origin)),
      listAlerts: ({ page, limit }) => Effect.flatMap(caller, ({ userId }) => alerts.list(userId, page, limit)),
      listWebhooks: () => Effect.flatMap(caller, ({ userId }) => webhooks.list(userId)),
      createWebhook: (input) => Effect.flatMap(caller, ({ userId, origin }) => webhooks.create(userId, input, origin)),
      deleteWebhook: ({ webhook_id }) =>
        Effect.flatMap(caller, ({ userId, origin }) => webhooks.remove(userId, webhook_id, origin)),
      testWebhook: ({ webhook_id }) => Effect.flatMap(caller, ({ userId }) => webhooks.test(userId, webhook_id)),
      listDeliveries: ({ webhook_id }) =>
        Effect.flatMap(caller, ({ userId }) => webhooks.deliveries(userId, webhook_id))
    })
  })
)
