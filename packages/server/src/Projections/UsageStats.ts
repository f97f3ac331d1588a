import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { UsageEvents } from "@orw/domain"
import { Effect, Match } from "effect"
import type { Projection } from "./Projection.js"
import { iso } from "./Projection.js"

export const { UNATTRIBUTED } = UsageEvents

/**
 * `usage_stats`: absolute totals per (key, date, model), cost in micro-dollars. Readers
 * apply the supersede rule: a (key, date) with per-model rows ignores its `unattributed` row.
 */
export const UsageStatsProjection: Projection = {
  name: "usage_stats",
  version: 1,
  table: "usage_stats",
  create: (table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`CREATE TABLE ${sql(table)} (
        api_key_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        date TEXT NOT NULL,
        model TEXT NOT NULL,
        requests_count INTEGER NOT NULL,
        tokens_input INTEGER NOT NULL,
        tokens_output INTEGER NOT NULL,
        cost_micros INTEGER NOT NULL,
        byok_cost_micros INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (api_key_id, date, model)
      )`
    ),
  indexes: (table) =>
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.zipRight(
        sql`CREATE INDEX ${sql(`${table}_by_user_date`)} ON ${sql(table)} (user_id, date, model)`,
        sql`CREATE INDEX ${sql(`${table}_by_date`)} ON ${sql(table)} (date)`
      )
    ),
  apply: ({ event }, table) =>
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql): Effect.Effect<unknown, SqlError> =>
        Match.value(event).pipe(
          Match.tag(
            "UsageRecorded",
            (e) => sql`INSERT INTO ${sql(table)} ${sql.insert({
              api_key_id: e.keyId,
              user_id: e.userId,
              date: e.date,
              model: e.model,
              requests_count: e.totals.requests,
              tokens_input: e.totals.tokensInput,
              tokens_output: e.totals.tokensOutput,
              cost_micros: e.totals.cost,
              byok_cost_micros: e.totals.byokCost,
              updated_at: iso(e.at)
            })} ON CONFLICT (api_key_id, date, model) DO UPDATE SET
            requests_count = excluded.requests_count, tokens_input = excluded.tokens_input,
            tokens_output = excluded.tokens_output, cost_micros = excluded.cost_micros,
            byok_cost_micros = excluded.byok_cost_micros, updated_at = excluded.updated_at`
          ),
          Match.tag("KeyDeleted", (e) => sql`DELETE FROM ${sql(table)} WHERE api_key_id = ${e.keyId}`),
          Match.tag("UserDeleted", (e) => sql`DELETE FROM ${sql(table)} WHERE user_id = ${e.userId}`),
          Match.orElse(() => Effect.void)
        )
    )
}
