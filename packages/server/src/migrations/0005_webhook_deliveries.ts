import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Side tables of alerting, not in the log:
 * - webhook_deliveries: the outbox of webhook POSTs (one row per alert and webhook, or per test), with
 *   its attempts; times are epoch milliseconds. The body is fixed at creation, so every attempt sends
 *   the same bytes under the same delivery id.
 * - reactor_checkpoints: how far in the log each reactor (the webhook outbox, the alert catch-up) has
 *   gone, so a restart resumes where it stopped, neither losing nor repeating work.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    alert_id TEXT,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_status_code INTEGER,
    last_error TEXT,
    next_attempt_at BIGINT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
  )`
  yield* sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)`
  yield* sql`CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at)`
  yield* sql`CREATE TABLE reactor_checkpoints (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
  )`
})
