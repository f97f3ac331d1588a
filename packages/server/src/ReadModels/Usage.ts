import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { UNATTRIBUTED } from "../Projections/UsageStats.js"

/** One effective usage row: what a (key, date, model) counts for. Cost in micro-dollars. */
export interface UsageRow {
  readonly api_key_id: string
  readonly date: string
  readonly model: string
  readonly requests: number
  readonly tokens_input: number
  readonly tokens_output: number
  readonly cost_micros: number
}

export interface UsageFilter {
  readonly userId: string
  readonly keyId?: string | undefined
  readonly startDate?: string | undefined
  readonly endDate?: string | undefined
}

/**
 * The usage rows that count, with the supersede rule of the sync: for a (key, date) that
 * has per-model rows from activity, its `unattributed` row is left out; without them it
 * counts, so a running "today" shows at once.
 */
export const effectiveUsage = (filter: UsageFilter) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const conditions = [
      sql`u.user_id = ${filter.userId}`,
      sql`NOT (u.model = ${UNATTRIBUTED} AND EXISTS (SELECT 1 FROM usage_stats m
        WHERE m.api_key_id = u.api_key_id AND m.date = u.date AND m.model <> ${UNATTRIBUTED}))`,
      ...(filter.keyId === undefined ? [] : [sql`u.api_key_id = ${filter.keyId}`]),
      ...(filter.startDate === undefined ? [] : [sql`u.date >= ${filter.startDate}`]),
      ...(filter.endDate === undefined ? [] : [sql`u.date <= ${filter.endDate}`])
    ]
    return sql<UsageRow>`SELECT u.api_key_id, u.date, u.model, u.requests_count AS requests, u.tokens_input,
      u.tokens_output, u.cost_micros FROM usage_stats u WHERE ${sql.and(conditions)}
      ORDER BY u.date, u.model, u.api_key_id`
  }).pipe(Effect.orDie)
