import { SqlClient } from "@effect/sql"
import { ApiKeyCommands, ApiKeyId, KeyNotFound, type Micros, UtcDate, usdToMicros } from "@orw/domain"
import { DateTime, Effect, flow, Option, type Redacted } from "effect"
import { CommandHandler } from "../CommandHandler.js"
import { KeyVault } from "../Crypto/KeyVault.js"
import { Dispatcher } from "../Dispatcher.js"
import type { EventMetadata, EventSource, StoredEvent } from "../EventStore.js"
import { OpenRouterClient } from "./Client.js"
import { withUpstreamRetry } from "./Retry.js"
import { type DayModelTotals, decideActivity, decideSnapshot, toKeyStatus } from "./Snapshot.js"
import { SyncSettings } from "./SyncSettings.js"

/** What one sync of one key did. */
export interface SyncResult {
  readonly keyId: string
  readonly outcome: "ok" | "invalid" | "failed"
  readonly error: string | null
  /** The events appended (none when nothing changed). */
  readonly recorded: ReadonlyArray<StoredEvent>
}

interface KeyRow {
  readonly id: string
  readonly user_id: string
  readonly key_ciphertext: string
  readonly key_hash: string
  readonly label: string
  readonly is_management_key: number | null
}

/** Days of activity re-read after the first backfill: completed days can still be revised. */
const REVISION_DAYS = 3

const utcDay = (at: DateTime.Utc) => UtcDate.make(DateTime.formatIsoDateUtc(at))

/** Sums activity rows per (date, model): rows come per (date, model, provider endpoint). */
export const sumActivity = (
  rows: ReadonlyArray<{
    date: string
    model: string
    requests: number
    prompt_tokens: number
    completion_tokens: number
    usage: number
    byok_usage_inference: number
  }>
): ReadonlyArray<DayModelTotals> => {
  const sums = new Map<string, DayModelTotals>()
  for (const row of rows) {
    const date = UtcDate.make(row.date.slice(0, 10))
    const slot = `${date}|${row.model}`
    const before = sums.get(slot)
    sums.set(slot, {
      date,
      model: row.model,
      requests: (before?.requests ?? 0) + row.requests,
      tokensInput: (before?.tokensInput ?? 0) + row.prompt_tokens,
      tokensOutput: (before?.tokensOutput ?? 0) + row.completion_tokens,
      cost: ((before?.cost ?? 0) + usdToMicros(row.usage)) as Micros,
      byokCost: ((before?.byokCost ?? 0) + usdToMicros(row.byok_usage_inference)) as Micros
    })
  }
  return [...sums.values()].sort((a, b) => (a.date + a.model).localeCompare(b.date + b.model))
}

/**
 * Syncs one stored key with OpenRouter, following openrouter-api.md "What the sync records":
 * status and usage growth from `GET /key`; per-model activity and the balance through the
 * user's stored management key. Every fact goes through the deciders; nothing new, no event.
 */
export class KeySync extends Effect.Service<KeySync>()("orw/KeySync", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const client = yield* OpenRouterClient
    const vault = yield* KeyVault
    const handler = yield* CommandHandler
    const dispatcher = yield* Dispatcher
    const settings = yield* SyncSettings

    const findKey = (keyId: string) =>
      Effect.map(
        sql<KeyRow>`SELECT id, user_id, key_ciphertext, key_hash, label, is_management_key FROM api_keys
          WHERE id = ${keyId}`,
        (rows) => Option.fromNullable(rows[0])
      ).pipe(Effect.orDie)

    const openKey = (row: KeyRow) =>
      vault.open(row.id, row.user_id, row.key_ciphertext).pipe(Effect.mapError(() => new KeyNotFound()))

    const markSynced = (keyId: string, at: string, error: string | null) =>
      sql`INSERT INTO key_sync (key_id, last_synced_at, last_attempt_at, last_error, state)
        VALUES (${keyId}, ${error === null ? at : null}, ${at}, ${error}, ${error === null ? "ok" : "failed"})
        ON CONFLICT (key_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,
          state = excluded.state, last_synced_at = COALESCE(excluded.last_synced_at, key_sync.last_synced_at)`.pipe(
        Effect.orDie
      )

    /** Per-model activity of `row`, read through the user's management key, if they stored one. */
    const syncActivity = (row: KeyRow, at: DateTime.Utc, metadata: EventMetadata) =>
      Effect.gen(function* () {
        const managers = yield* sql<KeyRow>`SELECT id, user_id, key_ciphertext, key_hash, label, is_management_key
          FROM api_keys WHERE user_id = ${row.user_id} AND is_management_key = 1 AND is_invalid = 0 AND id <> ${row.id}
          ORDER BY created_at LIMIT 1`.pipe(Effect.orDie)
        const manager = managers[0]
        if (manager === undefined || row.is_management_key === 1) return []
        const mgmt = yield* openKey(manager)
        const listed = yield* withUpstreamRetry(client.listAllKeys(mgmt, { includeDisabled: true }))
        const byLabel = listed.filter((k) => k.label === row.label)
        const hash =
          listed.find((k) => k.hash === row.key_hash)?.hash ?? (byLabel.length === 1 ? byLabel[0]?.hash : undefined)
        if (hash === undefined) return []
        const activity = yield* withUpstreamRetry(client.getActivity(mgmt, hash))
        const state = yield* sql<{ activity_backfilled_at: string | null }>`SELECT activity_backfilled_at FROM key_sync
          WHERE key_id = ${row.id}`.pipe(Effect.orDie)
        const backfilled = state[0]?.activity_backfilled_at != null
        const since = DateTime.formatIsoDateUtc(DateTime.subtract(at, { days: REVISION_DAYS }))
        const totals = sumActivity(activity).filter((t) => !backfilled || t.date >= since)
        const { events } = yield* handler.execute(decideActivity(ApiKeyId.make(row.id), totals, at), { metadata })
        if (!backfilled) {
          yield* sql`INSERT INTO key_sync (key_id, activity_backfilled_at) VALUES (${row.id}, ${DateTime.formatIso(at)})
            ON CONFLICT (key_id) DO UPDATE SET activity_backfilled_at = excluded.activity_backfilled_at`.pipe(
            Effect.orDie
          )
        }
        return events
      })

    /** The account balance, through a management key; 403 or an all-zero answer = unknown. */
    const syncBalance = (row: KeyRow, key: Redacted.Redacted<string>, at: DateTime.Utc) =>
      Effect.gen(function* () {
        const credits = yield* withUpstreamRetry(client.getCredits(key)).pipe(Effect.option)
        const known = Option.filter(credits, (c) => c.total_credits !== 0 || c.total_usage !== 0)
        yield* sql`INSERT INTO account_balance ${sql.insert({
          user_id: row.user_id,
          total_credits_micros: Option.match(known, {
            onNone: () => null,
            onSome: (c) => usdToMicros(c.total_credits)
          }),
          total_usage_micros: Option.match(known, { onNone: () => null, onSome: (c) => usdToMicros(c.total_usage) }),
          updated_at: DateTime.formatIso(at)
        })} ON CONFLICT (user_id) DO UPDATE SET total_credits_micros = excluded.total_credits_micros,
          total_usage_micros = excluded.total_usage_micros, updated_at = excluded.updated_at`.pipe(Effect.orDie)
      })

    const describe = (error: { readonly message: string }) => error.message

    /** Syncs one key now. A key deleted meanwhile is `KeyNotFound`. */
    const syncKey = Effect.fn("KeySync.syncKey")(function* (
      keyId: string,
      context: { readonly source: EventSource; readonly actor?: string | null; readonly requestId?: string | null }
    ) {
      const row = yield* Effect.flatten(findKey(keyId)).pipe(Effect.mapError(() => new KeyNotFound()))
      const key = yield* openKey(row)
      const at = yield* DateTime.now
      const metadata: EventMetadata = {
        actor: context.actor ?? null,
        source: context.source,
        correlationId: crypto.randomUUID(),
        causationId: null,
        requestId: context.requestId ?? null
      }
      const recorded: Array<StoredEvent> = []
      const id = ApiKeyId.make(row.id)
      const info = yield* Effect.either(withUpstreamRetry(client.getKey(key)))
      if (info._tag === "Left") {
        const error = info.left
        const command =
          error._tag === "OpenRouterUnauthorized"
            ? new ApiKeyCommands.MarkKeyInvalid({ keyId: id, at })
            : new ApiKeyCommands.RecordSyncFailure({ keyId: id, error: describe(error), at })
        recorded.push(...(yield* dispatcher.dispatch(command, { metadata })))
        yield* markSynced(row.id, DateTime.formatIso(at), describe(error))
        const outcome = error._tag === "OpenRouterUnauthorized" ? "invalid" : "failed"
        return { keyId, outcome, error: describe(error), recorded } satisfies SyncResult
      }
      const status = toKeyStatus(info.right)
      recorded.push(...(yield* handler.execute(decideSnapshot(id, status, at, utcDay(at)), { metadata })).events)
      const rowNow: KeyRow = { ...row, is_management_key: status.isManagementKey ? 1 : 0, label: status.label }
      const extra = yield* Effect.either(
        Effect.zipRight(
          status.isManagementKey ? syncBalance(rowNow, key, at) : Effect.void,
          syncActivity(rowNow, at, metadata)
        )
      )
      if (extra._tag === "Left" && extra.left._tag !== "KeyNotFound") {
        const message = `activity: ${describe(extra.left)}`
        yield* markSynced(row.id, DateTime.formatIso(at), message)
        return { keyId, outcome: "failed", error: message, recorded } satisfies SyncResult
      }
      if (extra._tag === "Right") recorded.push(...extra.right)
      yield* markSynced(row.id, DateTime.formatIso(at), null)
      return { keyId, outcome: "ok", error: null, recorded } satisfies SyncResult
    })

    return { syncKey: flow(syncKey, Effect.provideService(SyncSettings, settings)) } as const
  }),
  dependencies: [OpenRouterClient.Default, KeyVault.Default]
}) {}
