import { SqlClient } from "@effect/sql"
import { AlertId, ApiKeyId, BudgetId, microsToUsd, type UserId } from "@orw/domain"
import { AlertList, AlertRow, Pagination } from "@orw/domain/Api"
import { Effect } from "effect"
import * as Alerts from "../Projections/Alerts.js"

/** The alerts list, for the JSON API and v1 alike. */
export class AlertsService extends Effect.Service<AlertsService>()("orw/App/Alerts", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const list = Effect.fn("Alerts.list")(
      function* (userId: UserId, page: number, limit: number) {
        const { rows, total } = yield* Alerts.pageOf(userId, page, limit)
        return new AlertList({
          items: rows.map(
            (r) =>
              new AlertRow({
                id: AlertId.make(r.id),
                kind: r.kind,
                budget_id: r.budget_id === null ? null : BudgetId.make(r.budget_id),
                key_id: r.key_id === null ? null : ApiKeyId.make(r.key_id),
                threshold: r.threshold === null ? null : Number(r.threshold),
                amount: microsToUsd(Number(r.amount_micros)),
                spent: microsToUsd(Number(r.spent_micros)),
                period: r.period,
                period_start: r.period_start,
                fired_at: r.fired_at
              })
          ),
          pagination: new Pagination({ page, limit, total, pages: Math.ceil(total / limit) })
        })
      },
      (effect) => Effect.provideService(effect, SqlClient.SqlClient, sql)
    )
    return { list } as const
  })
}) {}
