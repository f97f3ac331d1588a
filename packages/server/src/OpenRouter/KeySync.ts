import { SqlClient } from "@effect/sql"
import {
  ApiKeyCommands,
  ApiKeyId,
  InvalidLimit,
  isSyncable,
  KeyInactive,
  KeyNotFound,
  ManagementKeyRequired,
  ReconciliationCommands,
  type ReconciliationEvents,
  SyncCommands,
  sumActivity,
  UpstreamRefused,
  type UserId,
  UtcDate,
  usdToMicros
} from "@orw/domain"
import { DateTime, Duration, Effect, flow, Option, type Redacted } from "effect"
import { metadataOf, type Origin } from "../App/Origin.js"
import { KeyVault } from "../Crypto/KeyVault.js"
import { Dispatcher } from "../Dispatcher.js"
import type { EventMetadata, StoredEvent } from "../EventStore.js"
import * as Metrics from "../Metrics.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import * as Balances from "../SideTables/Balances.js"
import * as SyncStatus from "../SideTables/SyncStatus.js"
import { AnalyticsLimiter, importHistory, todaySoFar } from "./Analytics/History.js"
import { OpenRouterClient } from "./Client.js"
import { hashIn, makeKeyListing } from "./KeyListing.js"
import { withUpstreamRetry } from "./Retry.js"
import { toKeyStatus } from "./Schemas.js"
import { SyncSettings } from "./SyncSettings.js"

/** What one sync of one key did. */
export interface SyncResult {
  readonly keyId: ApiKeyId
  readonly outcome: "ok" | "invalid" | "failed"
  readonly error: string | null
  /** The events appended (none when nothing changed). */
  readonly recorded: ReadonlyArray<StoredEvent>
}

/** What one reconciliation of one key found (openrouter-api.md, item 7). */
export interface ReconcileResult {
  readonly keyId: ApiKeyId
  /** `ok` when the comparison ran; otherwise the outcome of the sync it starts with, or of reading activity. */
  readonly outcome: "ok" | "invalid" | "failed"
  readonly error: string | null
  /** The discrepancies found (none when the figures agree). */
  readonly found: ReadonlyArray<ReconciliationEvents.UsageDiscrepancyFound>
  /** How many (date, model) rows were recorded again from OpenRouter's activity to heal them. */
  readonly healed: number
}

/** The completed days `/activity` serves, the ones the reconciliation compares day by day. */
const ACTIVITY_DAYS = 30

/** Days of activity re-read after the first backfill: completed days can still be revised. */
const REVISION_DAYS = 3

/** How long the account's key list (`GET /keys`) is reused by the keys of a pass, at most. */
const LISTING_TTL = Duration.minutes(5)

const utcDay = (at: DateTime.Utc) => UtcDate.make(DateTime.formatIsoDateUtc(at))

/**
 * Syncs one stored key with OpenRouter, following openrouter-api.md "What the sync records":
 * status and usage growth from `GET /key`; per-model activity and the balance through the
 * user's stored management key. It fetches, builds the domain command (RecordKeySnapshot, RecordActivity,
 * MarkKeyInvalid, RecordSyncFailure) and dispatches it: the rules of what is recorded are the deciders';
 * nothing new, no event.
 */
export class KeySync extends Effect.Service<KeySync>()("orw/KeySync", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const onDatabase = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, SqlClient.SqlClient, sql)
    const client = yield* OpenRouterClient
    const vault = yield* KeyVault
    const dispatcher = yield* Dispatcher
    const settings = yield* SyncSettings
    const limiter = yield* AnalyticsLimiter
    const provideAnalytics = <A, E>(
      effect: Effect.Effect<A, E, OpenRouterClient | AnalyticsLimiter | SyncSettings>
    ): Effect.Effect<A, E> =>
      effect.pipe(
        Effect.provideService(OpenRouterClient, client),
        Effect.provideService(AnalyticsLimiter, limiter),
        Effect.provideService(SyncSettings, settings)
      )

    const openKey = (row: ApiKeys.SyncTarget) =>
      vault.open(row.id, row.userId, row.ciphertext).pipe(Effect.mapError(() => new KeyNotFound()))

    const markSynced = (keyId: string, at: string, error: string | null) =>
      onDatabase(SyncStatus.recordAttempt(keyId, at, error))

    const listAll = (mgmt: Redacted.Redacted<string>) =>
      withUpstreamRetry(client.listAllKeys(mgmt, { includeDisabled: true }))

    /** How OpenRouter names `row` (its hash in `GET /keys`, every page): the SHA-256 when it is listed, else the one entry with its label. */
    const upstreamHash = (row: ApiKeys.SyncTarget, mgmt: Redacted.Redacted<string>) =>
      Effect.map(listAll(mgmt), (listed) => hashIn(listed, row))

    // The sync's mapping reads the account's list once per pass, shared by its keys (see KeyListing).
    const listing = makeKeyListing(Duration.min(settings.interval, LISTING_TTL))

    /**
     * Writes that end a sync (its key_sync row): in the transaction of `command`'s append when it appends,
     * else on their own (a sync that finds nothing new appends no event).
     */
    const dispatchEnding = <C extends Parameters<typeof dispatcher.dispatch>[0]>(
      command: C,
      metadata: EventMetadata,
      ending: Effect.Effect<void, never, SqlClient.SqlClient>
    ) =>
      Effect.gen(function* () {
        const events = yield* dispatcher.dispatch(command, { metadata, inTransaction: () => ending })
        if (events.length === 0) yield* onDatabase(ending)
        return events
      })

    /**
     * Writes a key's limit back to OpenRouter (openrouter-api.md, item 6): through the user's management key,
     * `PATCH /keys/{hash}`, then the change is recorded as the user's `KeyLimitSet`. No management key: 400;
     * OpenRouter refusing or failing: 502 with its status and message (scrubbed of any key).
     */
    const writeLimit = Effect.fn("KeySync.writeLimit")(function* (
      keyId: ApiKeyId,
      userId: UserId,
      change: { readonly limit: number | null; readonly limitReset: ApiKeyCommands.LimitReset },
      origin: Origin
    ) {
      const row = yield* Effect.flatten(onDatabase(ApiKeys.syncTarget(keyId))).pipe(
        Effect.mapError(() => new KeyNotFound())
      )
      if (change.limit !== null && (!Number.isFinite(change.limit) || change.limit < 0))
        return yield* new InvalidLimit()
      const manager = yield* onDatabase(ApiKeys.managementKeyOf(row.userId, row.id))
      if (Option.isNone(manager)) return yield* new ManagementKeyRequired()
      const mgmt = yield* openKey(manager.value)
      const refused = (error: { readonly message: string }) =>
        new UpstreamRefused({ detail: `OpenRouter refused the change: ${error.message}` })
      const hash = yield* upstreamHash(row, mgmt).pipe(Effect.mapError(refused))
      if (hash === undefined) {
        return yield* new UpstreamRefused({ detail: "OpenRouter's key list (GET /keys) does not include this key" })
      }
      yield* client
        .updateKey(mgmt, hash, { limit: change.limit, limit_reset: change.limitReset })
        .pipe(Effect.mapError(refused))
      const at = yield* DateTime.now
      const limit = change.limit === null ? null : usdToMicros(change.limit)
      const command = new ApiKeyCommands.SetKeyLimit({ keyId, userId, limit, limitReset: change.limitReset, at })
      return yield* dispatcher.dispatch(command, { metadata: metadataOf(origin, userId) })
    })

    /**
     * Per-model activity of `row`, read through the user's management key `manager`; `ending` is written
     * with its append (or alone when nothing is appended or there is nothing to read).
     */
    const syncActivity = (
      row: ApiKeys.SyncTarget,
      manager: ApiKeys.SyncTarget,
      at: DateTime.Utc,
      metadata: EventMetadata,
      ending: Effect.Effect<void, never, SqlClient.SqlClient>
    ) =>
      Effect.gen(function* () {
        const nothing = Effect.as(onDatabase(ending), [])
        const mgmt = yield* openKey(manager)
        const hash = yield* listing.hashOf(manager.id, listAll(mgmt), row)
        if (hash === undefined) return yield* nothing
        const activity = yield* withUpstreamRetry(client.getActivity(mgmt, hash))
        const backfilled = yield* onDatabase(SyncStatus.activityBackfilled(row.id))
        const imported = yield* onDatabase(SyncStatus.historyImported(row.id))
        const since = DateTime.formatIsoDateUtc(DateTime.subtract(at, { days: REVISION_DAYS }))
        const today = utcDay(at)
        // Days inside the activity window come from /activity only; older ones from the year of analytics,
        // taken once per key (openrouter-api.md, item 5): also for keys whose activity was backfilled before the
        // import existed; today from hourly analytics.
        const history = imported ? [] : yield* provideAnalytics(importHistory(mgmt, hash, at))
        // Today's split is an estimate: without it, today's growth still shows (unattributed).
        const running = yield* provideAnalytics(todaySoFar(mgmt, hash, at)).pipe(
          Effect.map((rows) => rows.filter((t) => t.date === today)),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning("hourly analytics unavailable", { keyId: row.id, error: error.message }), [])
          )
        )
        const fromActivity = sumActivity(activity).filter((t) => t.date < today && (!backfilled || t.date >= since))
        const totals = [...history, ...fromActivity, ...running]
        const command = new SyncCommands.RecordActivity({ keyId: ApiKeyId.make(row.id), totals, at })
        const stamp = DateTime.formatIso(at)
        // The key's bookkeeping commits with its activity: marks of the backfill and the import, its key_sync row.
        const marks = Effect.zipRight(
          backfilled ? Effect.void : SyncStatus.markActivityBackfilled(row.id, stamp),
          imported ? Effect.void : SyncStatus.markHistoryImported(row.id, stamp)
        )
        return yield* dispatchEnding(command, metadata, Effect.zipRight(marks, ending))
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

    /**
     * Syncs one key now. A key deleted meanwhile is `KeyNotFound`; a key switched off is `KeyInactive` and
     * OpenRouter is not called: the domain's `isSyncable` decides, for "Sync now" and the fibers alike.
     */
    const syncKey = Effect.fn("KeySync.syncKey")(function* (keyId: ApiKeyId, origin: Origin, actor: string | null) {
      const row = yield* Effect.flatten(onDatabase(ApiKeys.syncTarget(keyId))).pipe(
        Effect.mapError(() => new KeyNotFound())
      )
      if (!isSyncable(row)) return yield* new KeyInactive()
      const key = yield* openKey(row)
      const at = yield* DateTime.now
      const metadata = metadataOf(origin, actor)
      const attempt = (error: string | null) => SyncStatus.recordAttempt(row.id, DateTime.formatIso(at), error)
      const recorded: Array<StoredEvent> = []
      const id = ApiKeyId.make(row.id)
      const info = yield* Effect.either(withUpstreamRetry(client.getKey(key)))
      if (info._tag === "Left") {
        const error = info.left
        const command =
          error._tag === "OpenRouterUnauthorized"
            ? new ApiKeyCommands.MarkKeyInvalid({ keyId: id, at })
            : new ApiKeyCommands.RecordSyncFailure({ keyId: id, error: describe(error), at })
        recorded.push(...(yield* dispatchEnding(command, metadata, attempt(describe(error)))))
        const outcome = error._tag === "OpenRouterUnauthorized" ? "invalid" : "failed"
        return { keyId, outcome, error: describe(error), recorded } satisfies SyncResult
      }
      const status = toKeyStatus(info.right)
      const snapshot = new SyncCommands.RecordKeySnapshot({ keyId: id, status, at, day: utcDay(at) })
      const ok = { keyId, outcome: "ok", error: null, recorded } satisfies SyncResult
      // Activity is read through the user's management key, for the user's other keys only.
      const manager = status.isManagementKey
        ? Option.none<ApiKeys.SyncTarget>()
        : yield* onDatabase(ApiKeys.managementKeyOf(row.userId, row.id))
      if (!status.isManagementKey && Option.isNone(manager)) {
        // The snapshot is the sync's last write: its key_sync row commits with it.
        recorded.push(...(yield* dispatchEnding(snapshot, metadata, attempt(null))))
        return ok
      }
      recorded.push(...(yield* dispatcher.dispatch(snapshot, { metadata })))
      const rowNow: ApiKeys.SyncTarget = { ...row, isManagementKey: status.isManagementKey, label: status.label }
      const extra = yield* Effect.either(
        Option.isSome(manager)
          ? syncActivity(rowNow, manager.value, at, metadata, attempt(null))
          : Effect.zipRight(
              syncBalance(rowNow, key, at),
              Effect.as(markSynced(row.id, DateTime.formatIso(at), null), [])
            )
      )
      if (extra._tag === "Left" && extra.left._tag !== "KeyNotFound") {
        const message = `activity: ${describe(extra.left)}`
        yield* markSynced(row.id, DateTime.formatIso(at), message)
        return { keyId, outcome: "failed", error: message, recorded } satisfies SyncResult
      }
      if (extra._tag === "Right") recorded.push(...extra.right)
      // A management key removed meanwhile (KeyNotFound): the sync of this key itself went well.
      else yield* markSynced(row.id, DateTime.formatIso(at), null)
      return ok
    })

    /**
     * OpenRouter's per-model figures of the key's completed days in the activity window, through the user's
     * management key; None when the key has no per-model source (no management key, a management key itself,
     * or not in OpenRouter's key list).
     */
    const upstreamDays = (row: ApiKeys.SyncTarget, at: DateTime.Utc) =>
      Effect.gen(function* () {
        const manager = yield* onDatabase(ApiKeys.managementKeyOf(row.userId, row.id))
        if (Option.isNone(manager) || row.isManagementKey) return Option.none()
        const mgmt = yield* openKey(manager.value)
        // The pass's shared key list: a daily pass over every key must not list the account once per key.
        const hash = yield* listing.hashOf(manager.value.id, listAll(mgmt), row)
        if (hash === undefined) return Option.none()
        const activity = yield* withUpstreamRetry(client.getActivity(mgmt, hash))
        const today = utcDay(at)
        return Option.some({
          from: utcDay(DateTime.subtract(at, { days: ACTIVITY_DAYS })),
          to: utcDay(DateTime.subtract(at, { days: 1 })),
          totals: sumActivity(activity).filter((t) => t.date < today)
        })
      })

    /**
     * The daily reconciliation of one key (openrouter-api.md, item 7): a sync first (the `/key` snapshot the
     * all-time check compares with, and the usual revision of the last days), then OpenRouter's activity of the
     * whole window, compared and recorded again by the domain's `ReconcileUsage` (what differs is a
     * `UsageDiscrepancyFound`; the figures heal). Noted in `key_sync`, so the daily pass survives restarts.
     */
    const reconcileKey = Effect.fn("KeySync.reconcileKey")(function* (
      keyId: ApiKeyId,
      origin: Origin,
      actor: string | null
    ) {
      const synced = yield* syncKey(keyId, origin, actor)
      if (synced.outcome !== "ok") {
        return { keyId, outcome: synced.outcome, error: synced.error, found: [], healed: 0 } satisfies ReconcileResult
      }
      const row = yield* Effect.flatten(onDatabase(ApiKeys.syncTarget(keyId))).pipe(
        Effect.mapError(() => new KeyNotFound())
      )
      const at = yield* DateTime.now
      const days = yield* Effect.either(upstreamDays(row, at))
      if (days._tag === "Left") {
        if (days.left._tag === "KeyNotFound") return yield* days.left
        const error = `activity: ${describe(days.left)}`
        return { keyId, outcome: "failed", error, found: [], healed: 0 } satisfies ReconcileResult
      }
      const command = new ReconciliationCommands.ReconcileUsage({
        keyId,
        activity: Option.getOrNull(days.right),
        today: utcDay(at),
        at
      })
      const events = yield* dispatcher.dispatch(command, { metadata: metadataOf(origin, actor) })
      yield* onDatabase(SyncStatus.markReconciled(row.id, DateTime.formatIso(at)))
      const found = events.flatMap((e) => (e.event._tag === "UsageDiscrepancyFound" ? [e.event] : []))
      return {
        keyId,
        outcome: "ok",
        error: null,
        found,
        healed: events.length - found.length
      } satisfies ReconcileResult
    })

    return {
      reconcileKey: (keyId: ApiKeyId, origin: Origin, actor: string | null) =>
        reconcileKey(keyId, origin, actor).pipe(Effect.provideService(SyncSettings, settings)),
      syncKey: (keyId: ApiKeyId, origin: Origin, actor: string | null) =>
        syncKey(keyId, origin, actor).pipe(
          Effect.provideService(SyncSettings, settings),
          Effect.tap((result) => Metrics.recordSync(origin.source, result.outcome))
        ),
      writeLimit: flow(writeLimit, Effect.provideService(SyncSettings, settings))
    } as const
  }),
  dependencies: [OpenRouterClient.Default, KeyVault.Default, AnalyticsLimiter.Default]
}) {}
