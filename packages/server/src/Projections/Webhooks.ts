import { SqlClient } from "@effect/sql"
import { UserId, type WebhookFormat, WebhookId } from "@orw/domain"
import { Effect, Option } from "effect"
import { defineProjection, deleteWhere, insert } from "./Projection.js"

/** `webhooks`: the users' endpoints, with the secret only as the KeyVault sealed it. */
export const WebhooksProjection = defineProjection({
  name: "webhooks",
  version: 1,
  table: "webhooks",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    url TEXT NOT NULL,
    format TEXT NOT NULL,
    secret_ciphertext TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  indexes: ({ sql, table, name }) => [sql`CREATE INDEX ${name("by_user")} ON ${table} (user_id)`],
  on: {
    WebhookAdded: insert({
      id: (e) => e.webhookId,
      user_id: (e) => e.userId,
      url: (e) => e.url,
      format: (e) => e.format,
      secret_ciphertext: (e) => e.ciphertext,
      created_at: (_, at) => at
    }),
    WebhookDeleted: deleteWhere("id", (e) => e.webhookId),
    UserDeleted: deleteWhere("user_id", (e) => e.userId)
  }
})

export interface WebhookRecord {
  readonly id: WebhookId
  readonly userId: UserId
  readonly url: string
  readonly format: WebhookFormat
  readonly ciphertext: string
  readonly createdAt: string
}

interface Row {
  readonly id: string
  readonly user_id: string
  readonly url: string
  readonly format: string
  readonly secret_ciphertext: string
  readonly created_at: string
}

const toRecord = (r: Row): WebhookRecord => ({
  id: WebhookId.make(r.id),
  userId: UserId.make(r.user_id),
  url: r.url,
  format: r.format as WebhookFormat,
  ciphertext: r.secret_ciphertext,
  createdAt: r.created_at
})

export const ofUser = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<Row>`SELECT * FROM webhooks WHERE user_id = ${userId} ORDER BY created_at, id`
  ).pipe(
    Effect.map((rows) => rows.map(toRecord)),
    Effect.orDie
  )

export const byId = (webhookId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<Row>`SELECT * FROM webhooks WHERE id = ${webhookId}`).pipe(
    Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toRecord)),
    Effect.orDie
  )
