import { SqlClient } from "@effect/sql"
import { normalizeEmail, UserId } from "@orw/domain"
import { Effect, Option } from "effect"
import { defineProjection, deleteWhere, insert, write } from "./Projection.js"

/** `users`: one row per registered, not deleted account. */
export const UsersProjection = defineProjection({
  name: "users",
  version: 1,
  table: "users",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    key_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
  on: {
    UserRegistered: insert({
      id: (e) => e.userId,
      email: (e) => e.email,
      password_hash: (e) => e.passwordHash,
      password_changed_at: (_, at) => at,
      is_active: () => 1,
      key_count: () => 0,
      created_at: (_, at) => at,
      updated_at: (_, at) => at
    }),
    PasswordChanged: write(
      (t) => `UPDATE ${t} SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`,
      (e, at) => [e.passwordHash, at, at, e.userId]
    ),
    UserDeleted: deleteWhere("id", (e) => e.userId),
    KeyAttached: write(
      (t) => `UPDATE ${t} SET key_count = key_count + 1 WHERE id = ?`,
      (e) => [e.userId]
    ),
    KeyDetached: write(
      (t) => `UPDATE ${t} SET key_count = key_count - 1 WHERE id = ?`,
      (e) => [e.userId]
    )
  }
})

/** An account as the read side knows it. `passwordHash` is argon2id, never shown to anyone. */
export interface UserRecord {
  readonly id: UserId
  readonly email: string
  readonly passwordHash: string
  readonly passwordChangedAt: string
  readonly createdAt: string
}

interface Row {
  readonly id: string
  readonly email: string
  readonly password_hash: string
  readonly password_changed_at: string
  readonly created_at: string
}

const toRecord = (row: Row): UserRecord => ({
  id: UserId.make(row.id),
  email: row.email,
  passwordHash: row.password_hash,
  passwordChangedAt: row.password_changed_at,
  createdAt: row.created_at
})

const one = (rows: ReadonlyArray<Row>) => Option.map(Option.fromNullable(rows[0]), toRecord)

/** The account registered with `email` (compared normalized), if any. */
export const byEmail = (email: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<Row>`SELECT id, email, password_hash, password_changed_at, created_at FROM users
      WHERE email = ${normalizeEmail(email)}`
  ).pipe(Effect.map(one), Effect.orDie, Effect.withSpan("Users.byEmail"))

/** The account with this id, if it exists (not deleted). */
export const byId = (userId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<Row>`SELECT id, email, password_hash, password_changed_at, created_at FROM users WHERE id = ${userId}`
  ).pipe(Effect.map(one), Effect.orDie, Effect.withSpan("Users.byId"))
