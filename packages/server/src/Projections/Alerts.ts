import { SqlClient } from "@effect/sql"
import type { AlertEvent } from "@orw/domain"
import { Effect } from "effect"
import { defineProjection, deleteWhere, type Fields, iso, write } from "./Projection.js"

export type AlertKind = "threshold" | "spike" | "forecast"

/** The alert row of an alert event fired at `at` (ISO 8601 UTC). */
const alertRow = (e: Fields<AlertEvent>, at: string) => {
  switch (e._tag) {
    case "BudgetThresholdCrossed":
      return {
        id: e.alertId,
        user_id: e.userId,
        kind: "threshold" as AlertKind,
        budget_id: e.budgetId,
        key_id: e.keyId,
        threshold: e.threshold,
        amount_micros: e.amount,
        spent_micros: e.spent,
        period: e.period,
        period_start: e.periodStart,
        fired_at: at
      }
    case "BudgetForecastExceeded":
      return {
        id: e.alertId,
        user_id: e.userId,
        kind: "forecast" as AlertKind,
        budget_id: e.budgetId,
        key_id: e.keyId,
        threshold: null,
        amount_micros: e.amount,
        spent_micros: e.spent,
        period: e.period,
        period_start: e.periodStart,
        fired_at: at
      }
    case "KeySpendSpiked":
      // `amount` of a spike: the spend it exceeded (factor × the trailing average).
      return {
        id: e.alertId,
        user_id: e.userId,
        kind: "spike" as AlertKind,
        budget_id: null,
        key_id: e.keyId,
        threshold: null,
        amount_micros: Math.round(e.factor * e.average),
        spent_micros: e.spent,
        period: "daily" as const,
        period_start: e.date,
        fired_at: at
      }
  }
}

/** The alert row of an alert event: what the API lists and the webhooks carry. */
export const alertRowOf = (e: AlertEvent) => alertRow(e, iso(e.at))
export type AlertRecord = ReturnType<typeof alertRowOf>

/** The columns of an alert row, in the order the INSERT lists them. */
const ALERT_COLUMNS = [
  "id",
  "user_id",
  "kind",
  "budget_id",
  "key_id",
  "threshold",
  "amount_micros",
  "spent_micros",
  "period",
  "period_start",
  "fired_at"
] as const satisfies ReadonlyArray<keyof AlertRecord>

const insertAlert = write<AlertEvent>(
  (t) => `INSERT INTO ${t} (${ALERT_COLUMNS.join(", ")}) VALUES (${ALERT_COLUMNS.map(() => "?").join(", ")})`,
  (e, at) => {
    const row = alertRow(e, at)
    return ALERT_COLUMNS.map((column) => row[column])
  }
)

/** `alerts`: every alert that fired, kept when its budget is deleted (it did fire); gone with its user. */
export const AlertsProjection = defineProjection({
  name: "alerts",
  version: 1,
  table: "alerts",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    budget_id TEXT,
    key_id TEXT,
    threshold INTEGER,
    amount_micros BIGINT NOT NULL,
    spent_micros BIGINT NOT NULL,
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    fired_at TEXT NOT NULL
  )`,
  indexes: ({ sql, table, name }) => [sql`CREATE INDEX ${name("by_user")} ON ${table} (user_id, fired_at)`],
  on: {
    BudgetThresholdCrossed: insertAlert,
    BudgetForecastExceeded: insertAlert,
    KeySpendSpiked: insertAlert,
    UserDeleted: deleteWhere("user_id", (e) => e.userId)
  }
})

/* ---- Queries ---- */

/** One page of the user's alerts, newest first, and how many there are. */
export const pageOf = (userId: string, page: number, limit: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<AlertRecord>`SELECT * FROM alerts WHERE user_id = ${userId}
      ORDER BY fired_at DESC, id DESC LIMIT ${limit} OFFSET ${(page - 1) * limit}`
    const count = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM alerts WHERE user_id = ${userId}`
    return { rows, total: Number(count[0]?.n ?? 0) }
  }).pipe(Effect.orDie)

/** Alerts by kind, for /metrics. */
export const countsByKind = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ kind: string; n: number }>`SELECT kind, COUNT(*) AS n FROM alerts GROUP BY kind ORDER BY kind`
).pipe(Effect.orDie)
