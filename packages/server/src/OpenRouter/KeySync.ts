import { SqlClient } from "@effect/sql"
import { ApiKeyCommands, ApiKeyId, KeyNotFound, type Micros, UtcDate, usdToMicros } from "@orw/domain"
import { DateTime, Effect, Option, type Redacted } from "effect"
import { CommandHandler } from "../CommandHandler.js"
import { KeyVault } from "../Crypto/KeyVault.js"
import { Dispatcher } from "../Dispatcher.js"
import type { EventMetadata, EventSource, StoredEvent } from "../EventStore.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import * as Balances from "../SideTables/Balances.js"
import * as SyncStatus from "../SideTables/SyncStatus.js"
import { OpenRouterClient } from "./Client.js"
import { withUpstreamRetry } from "./Retry.js"
import { type DayModelTotals, decideActivity, decideSnapshot, toKeyStatus } from "./Snapshot.js"

/** What one sync of one key did. */
export interface SyncResult {
  readonly keyId: string
  readonly outcome: "ok" | "invalid" | "failed"
  readonly error: string | null
  /** The events appended (none when nothing changed). */
  readonly recorded: ReadonlyArray<StoredEvent>
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
    const onDatabase = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, SqlClient.SqlClient, sql)
    const client = yield* OpenRouterClient
    const vault = yield* KeyVault
    const handler = yield* CommandHandler
    const dispatcher = yield* Dispatcher

    const openKey = (row: ApiKeys.SyncTarget) =>
      vault.open(row.id, row.userId, row.ciphertext).pipe(Effect.mapError(() => new KeyNotFound()))

    const markSynced = (keyId: string, at: string, error: string | null) =>
      onDatabase(SyncStatus.recordAttempt(keyId, at, error))

    /** Per-model activity of `row`, read through the user's management key, if they stored one. */
    const syncActivity = (row: ApiKeys.SyncTarget, at: DateTime.Utc, metadata: EventMetadata) =>
      Effect.gen(function* () {
        const manager = yield* onDatabase(ApiKeys.managementKeyOf(row.userId, row.id))
        if (Option.isNone(manager) || row.isManagementKey) return []
        const mgmt = yield* openKey(manager.value)
        const listed = yield* withUpstreamRetry(client.listAllKeys(mgmt, { includeDisabled: true }))
        const byLabel = listed.filter((k) => k.label === row.label)
        const hash =
          listed.find((k) => k.hash === row.keyHash)?.hash ?? (byLabel.length === 1 ? byLabel[0]?.hash : undefined)
        if (hash === undefined) return []
        const activity = yield* withUpstreamRetry(client.getActivity(mgmt, hash))
        const backfilled = yield* onDatabase(SyncStatus.activityBackfilled(row.id))
        const since = DateTime.formatIsoDateUtc(DateTime.subtract(at, { days: REVISION_DAYS }))
        const totals = sumActivity(activity).filter((t) => !backfilled || t.date >= since)
        const { events } = yield* handler.execute(decideActivity(ApiKeyId.make(row.id), totals, at), { metadata })
        if (!backfilled) {
          yield* onDatabase(SyncStatus.markActivityBackfilled(row.id, DateTime.formatIso(at)))
        }
        return events
      })

    /** The account balance, through a management key; 403 or an all-zero answer = unknown. */
    const syncBalance = (row: ApiKeys.SyncTarget, key: Redacted.Redacted<string>, at: DateTime.Utc) =>
      Effect.gen(function* () {
        const credits = yield* withUpstreamRetry(client.getCredits(key)).pipe(Effect.option)
        const known = Option.filter(credits, (c) => c.total_credits !== 0 || c.total_usage !== 0)
        const figures = Option.match(known, {
          onNone: () => null,
          onSome: (c) => ({ totalCredits: usdToMicros(c.total_credits), totalUsage: usdToMicros(c.total_usage) })
        })
        yield* onDatabase(Balances.record(row.userId, figures, DateTime.formatIso(at)))
      })

    const describe = (error: { readonly message: string }) => error.message

    /** Syncs one key now. A key deleted meanwhile is `KeyNotFound`. */
    const syncKey = Effect.fn("KeySync.syncKey")(function* (
      keyId: string,
      context: { readonly source: EventSource; readonly actor?: string | null; readonly requestId?: string | null }
    ) {
      const row = yield* Effect.flatten(onDatabase(ApiKeys.syncTarget(keyId))).pipe(
        Effect.mapError(() => new KeyNotFound())
      )
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
      const rowNow: ApiKeys.SyncTarget = { ...row, isManagementKey: status.isManagementKey, label: status.label }
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

    return { syncKey } as const
  })
}) {}
