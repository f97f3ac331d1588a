import { SqlClient } from "@effect/sql"
import type { Fragment } from "@effect/sql/Statement"
import { ApiKeyId, isPolled, type KeyFlags, type KeySpend, keyHealth, microsToUsd, UserId, zeroSum } from "@orw/domain"
import { type Discrepancy, KeyRow } from "@orw/domain/Api"
import { DateTime, Effect, Option } from "effect"
import * as SyncStatus from "../SideTables/SyncStatus.js"
import * as Discrepancies from "./Discrepancies.js"
import { defineProjection, deleteWhere, flag, insert, write } from "./Projection.js"
import * as UsageStats from "./UsageStats.js"

/**
 * `api_keys`: the user's stored keys with what the last recorded upstream status said. Money columns
 * are micro-dollars (64-bit). `status` is derived on read from the flags by the domain's `keyHealth`.
 */
export const ApiKeysProjection = defineProjection({
  name: "api_keys",
  // 2: a rename keeps is_invalid; a recorded status clears it (issue 13).
  version: 2,
  table: "api_keys",
  create: ({ sql, table }) => sql`CREATE TABLE ${table} (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    key_ciphertext TEXT NOT NULL,
    is_active INTEGER NOT NULL,
    is_invalid INTEGER NOT NULL,
    is_failing INTEGER NOT NULL,
    last_error TEXT,
    is_management_key INTEGER,
    limit_micros BIGINT,
    limit_remaining_micros BIGINT,
    limit_reset TEXT,
    usage_total_micros BIGINT,
    usage_daily_micros BIGINT,
    usage_weekly_micros BIGINT,
    usage_monthly_micros BIGINT,
    expires_at TEXT,
    status_recorded_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_used_at TEXT
  )`,
  indexes: ({ sql, table, name }) => [sql`CREATE INDEX ${name("by_user")} ON ${table} (user_id)`],
  on: {
    KeyAdded: insert({
      id: (e) => e.keyId,
      user_id: (e) => e.userId,
      name: (e) => e.name,
      label: (e) => e.label,
      key_hash: (e) => e.keyHash,
      key_ciphertext: (e) => e.ciphertext,
      is_active: () => 1,
      is_invalid: () => 0,
      is_failing: () => 0,
      created_at: (_, at) => at,
      updated_at: (_, at) => at
    }),
    KeyRenamed: write(
      (t) => `UPDATE ${t} SET name = ?, updated_at = ? WHERE id = ?`,
      (e, at) => [e.name, at, e.keyId]
    ),
    KeyActiveSet: write(
      (t) => `UPDATE ${t} SET is_active = ?, is_invalid = 0, is_failing = 0, last_error = NULL,
        updated_at = ? WHERE id = ?`,
      (e, at) => [flag(e.isActive), at, e.keyId]
    ),
    KeyDeleted: deleteWhere("id", (e) => e.keyId),
    UserDeleted: deleteWhere("user_id", (e) => e.userId),
    KeyStatusRecorded: write(
      (t) => `UPDATE ${t} SET label = ?, is_management_key = ?, limit_micros = ?, limit_remaining_micros = ?,
        limit_reset = ?, usage_total_micros = ?, usage_daily_micros = ?, usage_weekly_micros = ?,
        usage_monthly_micros = ?, expires_at = ?, status_recorded_at = ?, is_failing = 0, is_invalid = 0,
        last_error = NULL, updated_at = ? WHERE id = ?`,
      ({ status: s, keyId }, at) => [
        s.label,
        flag(s.isManagementKey),
        s.limit,
        s.limitRemaining,
        s.limitReset,
        s.usage,
        s.usageDaily,
        s.usageWeekly,
        s.usageMonthly,
        s.expiresAt,
        at,
        at,
        keyId
      ]
    ),
    KeyMarkedInvalid: write(
      (t) => `UPDATE ${t} SET is_invalid = 1, last_error = ?, updated_at = ? WHERE id = ?`,
      (e, at) => ["OpenRouter rejected the key (401)", at, e.keyId]
    ),
    // Shown at once; the next /key snapshot confirms it (limit_remaining follows from OpenRouter then).
    KeyLimitSet: write(
      (t) => `UPDATE ${t} SET limit_micros = ?, limit_reset = ?, updated_at = ? WHERE id = ?`,
      (e, at) => [e.limit, e.limitReset, at, e.keyId]
    ),
    KeySyncFailed: write(
      (t) => `UPDATE ${t} SET is_failing = 1, last_error = ?, updated_at = ? WHERE id = ?`,
      (e, at) => [e.error, at, e.keyId]
    ),
    UsageRecorded: write(
      (t) => `UPDATE ${t} SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`,
      (e, at) => [at, e.keyId, at]
    )
  }
})

/* ---- Queries: every read of `api_keys` lives below. ---- */

interface Row {
  readonly id: string
  readonly user_id: string
  readonly name: string
  readonly label: string
  readonly is_active: number
  readonly is_invalid: number
  readonly is_failing: number
  readonly is_management_key: number | null
  readonly created_at: string
  readonly updated_at: string
  readonly last_used_at: string | null
  readonly last_error: string | null
  readonly limit_micros: number | null
  readonly limit_remaining_micros: number | null
  readonly limit_reset: string | null
  readonly usage_daily_micros: number | null
  readonly usage_weekly_micros: number | null
  readonly usage_monthly_micros: number | null
  readonly usage_total_micros: number | null
}

const flagsOf = (row: Pick<Row, "is_active" | "is_invalid" | "is_failing">): KeyFlags => ({
  isActive: Number(row.is_active) === 1,
  invalid: Number(row.is_invalid) === 1,
  failing: Number(row.is_failing) === 1
})

const usd = (micros: number | null) => (micros === null ? null : microsToUsd(Number(micros)))

/**
 * A key as clients see it. The error of the last sync attempt (key_sync) shows only when it is newer than
 * the key's last change: re-activating a key clears its error.
 */
const toKeyRow = (
  row: Row,
  sync: SyncStatus.SyncStatus | undefined,
  spend: KeySpend,
  discrepancy: Discrepancy | undefined
) =>
  new KeyRow({
    id: ApiKeyId.make(row.id),
    name: row.name,
    label: row.label,
    is_active: Number(row.is_active) === 1,
    status: keyHealth({
      ...flagsOf(row),
      limitRemaining: row.limit_remaining_micros === null ? null : Number(row.limit_remaining_micros)
    }),
    is_management_key: row.is_management_key === null ? null : Number(row.is_management_key) === 1,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    last_synced_at: sync?.lastSyncedAt ?? null,
    last_attempt_at: sync?.lastAttemptAt ?? null,
    last_error:
      row.last_error ??
      (sync?.lastAttemptAt != null && sync.lastAttemptAt >= row.updated_at ? sync.lastError : null) ??
      null,
    limit: usd(row.limit_micros),
    limit_remaining: usd(row.limit_remaining_micros),
    limit_reset: row.limit_reset,
    usage_daily: usd(row.usage_daily_micros),
    usage_weekly: usd(row.usage_weekly_micros),
    usage_monthly: usd(row.usage_monthly_micros),
    usage_total: usd(row.usage_total_micros),
    spend_today: microsToUsd(spend.today.cost),
    requests_today: spend.today.requests,
    spend_total: microsToUsd(spend.total.cost),
    last_discrepancy: discrepancy ?? null
  })

const select = (where: (sql: SqlClient.SqlClient) => Fragment) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Row>`SELECT id, user_id, name, label, is_active, is_invalid, is_failing, is_management_key,
      created_at, updated_at, last_used_at, last_error, limit_micros, limit_remaining_micros, limit_reset,
      usage_daily_micros, usage_weekly_micros, usage_monthly_micros, usage_total_micros
      FROM api_keys WHERE ${where(sql)} ORDER BY created_at, id`
    const sync = yield* SyncStatus.ofKeys(rows.map((r) => r.id))
    const today = DateTime.formatIsoDateUtc(yield* DateTime.now)
    const spends = yield* UsageStats.spendOfKeys(
      rows.map((r) => r.id),
      today
    )
    const discrepancies = yield* Discrepancies.latestOfKeys(rows.map((r) => r.id))
    return rows.map((row) => ({
      owner: UserId.make(row.user_id),
      row: toKeyRow(
        row,
        sync.get(row.id),
        spends.get(row.id) ?? { today: zeroSum(), total: zeroSum() },
        discrepancies.get(row.id)
      )
    }))
  }).pipe(Effect.orDie)

/** The rows of a user's keys, oldest first. */
export const rowsOf = (userId: string) =>
  Effect.map(
    select((sql) => sql`user_id = ${userId}`),
    (rows) => rows.map((r) => r.row)
  ).pipe(Effect.withSpan("ApiKeys.rowsOf"))

/** One key's row and its owner, if the key exists. */
export const rowById = (keyId: string) =>
  Effect.map(
    select((sql) => sql`id = ${keyId}`),
    (rows) => Option.fromNullable(rows[0])
  ).pipe(Effect.withSpan("ApiKeys.rowById"))

/** A key in lists (names, flags), without upstream figures. */
export interface KeySummary {
  readonly id: ApiKeyId
  readonly userId: UserId
  readonly name: string
  readonly label: string
  readonly flags: KeyFlags
}

const summaries = (where: (sql: SqlClient.SqlClient) => Fragment) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<Pick<Row, "id" | "user_id" | "name" | "label" | "is_active" | "is_invalid" | "is_failing">>`
      SELECT id, user_id, name, label, is_active, is_invalid, is_failing FROM api_keys WHERE ${where(sql)}
      ORDER BY created_at, id`
  ).pipe(
    Effect.map((rows) =>
      rows.map(
        (r): KeySummary => ({
          id: ApiKeyId.make(r.id),
          userId: UserId.make(r.user_id),
          name: r.name,
          label: r.label,
          flags: flagsOf(r)
        })
      )
    ),
    Effect.orDie
  )

/** The user's keys, oldest first. */
export const summariesOf = (userId: string) => summaries((sql) => sql`user_id = ${userId}`)

/** One key, if it exists. */
export const summaryById = (keyId: string) =>
  Effect.map(
    summaries((sql) => sql`id = ${keyId}`),
    (rows) => Option.fromNullable(rows[0])
  )

/** Every stored key of every user, oldest first. */
export const allSummaries = summaries((sql) => sql`1 = 1`)

/** The keys the background sync polls (the domain's `isPolled`), oldest first. */
export const polled = Effect.map(allSummaries, (keys) => keys.filter((k) => isPolled(k.flags)))

/** Stored keys counted by status, for /metrics. */
export const countByHealth = Effect.map(allSummaries, (keys) => {
  const counts = new Map<string, number>()
  for (const key of keys) counts.set(keyHealth(key.flags), (counts.get(keyHealth(key.flags)) ?? 0) + 1)
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([status, count]) => ({ status, count }))
})

/** What the sync needs of a key: its sealed secret and how upstream names it. */
export interface SyncTarget {
  readonly id: ApiKeyId
  readonly userId: UserId
  readonly ciphertext: string
  readonly keyHash: string
  readonly label: string
  readonly isManagementKey: boolean
  /** Switched on by its owner (the domain's `isSyncable`). */
  readonly isActive: boolean
}

interface TargetRow {
  readonly id: string
  readonly user_id: string
  readonly key_ciphertext: string
  readonly key_hash: string
  readonly label: string
  readonly is_management_key: number | null
  readonly is_active: number
  readonly is_invalid: number
  readonly is_failing: number
}

const toTarget = (r: TargetRow): SyncTarget => ({
  id: ApiKeyId.make(r.id),
  userId: UserId.make(r.user_id),
  ciphertext: r.key_ciphertext,
  keyHash: r.key_hash,
  label: r.label,
  isManagementKey: Number(r.is_management_key) === 1,
  isActive: Number(r.is_active) === 1
})

/** The key to sync, if it still exists. */
export const syncTarget = (keyId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<TargetRow>`SELECT id, user_id, key_ciphertext, key_hash, label, is_management_key, is_active,
      is_invalid, is_failing FROM api_keys WHERE id = ${keyId}`
  ).pipe(
    Effect.map((rows) => Option.map(Option.fromNullable(rows[0]), toTarget)),
    Effect.orDie
  )

/**
 * The user's oldest stored management key that may call upstream (the domain's `isPolled`: switched on and
 * not refused), other than `exceptKeyId`.
 */
export const managementKeyOf = (userId: string, exceptKeyId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<TargetRow>`SELECT id, user_id, key_ciphertext, key_hash, label, is_management_key, is_active,
      is_invalid, is_failing FROM api_keys WHERE user_id = ${userId} AND is_management_key = 1 AND id <> ${exceptKeyId}
      ORDER BY created_at, id`
  ).pipe(
    Effect.map((rows) => Option.map(Option.fromNullable(rows.find((r) => isPolled(flagsOf(r)))), toTarget)),
    Effect.orDie
  )

/** Every key's all-time spend as OpenRouter last reported it (USD; null until the first sync = 0), for /metrics. */
export const upstreamSpend = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ id: string; name: string; usage_total_micros: number | null }>`SELECT id, name, usage_total_micros
    FROM api_keys ORDER BY id`
).pipe(
  Effect.map((rows) =>
    rows.map((r) => ({ id: r.id, name: r.name, usageTotal: Number(r.usage_total_micros ?? 0) / 1_000_000 }))
  ),
  Effect.orDie
)
