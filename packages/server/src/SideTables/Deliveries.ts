import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * `webhook_deliveries` and `reactor_checkpoints` (migration 0005): the webhook outbox. The only module that
 * reads or writes them. Times are epoch milliseconds.
 */

export type DeliveryStatus = "pending" | "delivered" | "failed"

export interface DeliveryRecord {
  readonly id: string
  readonly webhook_id: string
  readonly user_id: string
  readonly alert_id: string | null
  readonly event_type: string
  readonly body: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly last_status_code: number | null
  readonly last_error: string | null
  readonly next_attempt_at: number | null
  readonly created_at: number
  readonly delivered_at: number | null
}

const normalize = (r: DeliveryRecord): DeliveryRecord => ({
  ...r,
  attempts: Number(r.attempts),
  last_status_code: r.last_status_code === null ? null : Number(r.last_status_code),
  next_attempt_at: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
  created_at: Number(r.created_at),
  delivered_at: r.delivered_at === null ? null : Number(r.delivered_at)
})

/** A new delivery, due at once; a second insert of the same id (a replayed outbox batch) changes nothing. */
export const enqueue = (row: {
  readonly id: string
  readonly webhookId: string
  readonly userId: string
  readonly alertId: string | null
  readonly eventType: string
  readonly body: string
  readonly now: number
}) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql`INSERT INTO webhook_deliveries ${sql.insert({
        id: row.id,
        webhook_id: row.webhookId,
        user_id: row.userId,
        alert_id: row.alertId,
        event_type: row.eventType,
        body: row.body,
        status: "pending",
        attempts: 0,
        next_attempt_at: row.now,
        created_at: row.now
      })} ON CONFLICT (id) DO NOTHING`
  ).pipe(Effect.asVoid, Effect.orDie)

/** Pending deliveries due at `now`, oldest due first. */
export const due = (now: number, limit: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<DeliveryRecord>`SELECT * FROM webhook_deliveries WHERE status = 'pending'
      AND next_attempt_at <= ${now} ORDER BY next_attempt_at, id LIMIT ${limit}`
  ).pipe(
    Effect.map((rows) => rows.map(normalize)),
    Effect.orDie
  )

/** When the next pending delivery is due, if any. */
export const nextDue = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ at: number | null }>`SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'`
).pipe(
  Effect.map((rows) => (rows[0]?.at === null || rows[0]?.at === undefined ? null : Number(rows[0].at))),
  Effect.orDie
)

/**
 * Takes a due delivery for one attempt by moving its due time to `leaseUntil`: only the worker whose
 * update matched sends it (another worker, or another instance, sees it taken). A crash mid-attempt
 * leaves it due again at `leaseUntil`.
 */
export const claim = (id: string, expectedDue: number, leaseUntil: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ id: string }>`UPDATE webhook_deliveries SET next_attempt_at = ${leaseUntil}
      WHERE id = ${id} AND status = 'pending' AND next_attempt_at = ${expectedDue} RETURNING id`
  ).pipe(
    Effect.map((rows) => rows.length === 1),
    Effect.orDie
  )

/** The outcome of one attempt: delivered, due again at `nextAttemptAt`, or failed for good. */
export const record = (
  id: string,
  outcome: {
    readonly status: DeliveryStatus
    readonly statusCode: number | null
    readonly error: string | null
    readonly nextAttemptAt: number | null
    readonly now: number
  }
) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`UPDATE webhook_deliveries SET status = ${outcome.status}, attempts = attempts + 1,
      last_status_code = ${outcome.statusCode}, last_error = ${outcome.error},
      next_attempt_at = ${outcome.nextAttemptAt},
      delivered_at = ${outcome.status === "delivered" ? outcome.now : null}
      WHERE id = ${id} AND status = 'pending'`
  ).pipe(Effect.asVoid, Effect.orDie)

export const byId = (id: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<DeliveryRecord>`SELECT * FROM webhook_deliveries WHERE id = ${id}`
  ).pipe(
    Effect.map((rows) => (rows[0] === undefined ? undefined : normalize(rows[0]))),
    Effect.orDie
  )

/** A webhook's latest deliveries, newest first. */
export const ofWebhook = (webhookId: string, limit = 100) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<DeliveryRecord>`SELECT * FROM webhook_deliveries WHERE webhook_id = ${webhookId}
      ORDER BY created_at DESC, id DESC LIMIT ${limit}`
  ).pipe(
    Effect.map((rows) => rows.map(normalize)),
    Effect.orDie
  )

/** Deliveries by status, for /metrics. */
export const countsByStatus = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ status: string; n: number }>`SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status`
).pipe(Effect.orDie)

/** Where a reactor stopped in the log (0: nowhere yet). */
export const checkpoint = (name: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ position: number }>`SELECT position FROM reactor_checkpoints WHERE name = ${name}`
  ).pipe(
    Effect.map((rows) => Number(rows[0]?.position ?? 0)),
    Effect.orDie
  )

/** Moves a reactor's checkpoint forward (never back: two catch-ups may overlap). */
export const saveCheckpoint = (name: string, position: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql`INSERT INTO reactor_checkpoints (name, position) VALUES (${name}, ${position})
      ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE reactor_checkpoints.position < excluded.position`
  ).pipe(Effect.asVoid, Effect.orDie)
