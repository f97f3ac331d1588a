import { SqlClient } from "@effect/sql"
import { ApiKeyId } from "@orw/domain"
import { DateTime, Duration, Effect, FiberMap, Random, Schedule, Stream, SubscriptionRef } from "effect"
import { originOf } from "../App/Origin.js"
import { EventBus } from "../EventBus.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import * as SyncStatus from "../SideTables/SyncStatus.js"
import { KeySync } from "./KeySync.js"
import { SyncLease } from "./SyncLease.js"
import { SyncSettings } from "./SyncSettings.js"

/** Events after which the set of polled keys may have changed. */
const KEYSET_EVENTS = new Set([
  "KeyAdded",
  "KeyActiveSet",
  "KeyRenamed",
  "KeyDeleted",
  "KeyMarkedInvalid",
  "UserDeleted"
])

/**
 * One supervised fiber per polled key (the domain's `isPolled`: active, not refused by upstream), in a FiberMap owned by this service's scope:
 * the set follows the keys (reconciled on every key event and once a minute, for changes
 * made by another process such as the CLI), a failure of one key never stops the others,
 * and closing the scope (shutdown) interrupts every fiber, in-flight HTTP calls included;
 * appends are transactions, so an interrupted sync leaves no partial write.
 */
export class SyncSupervisor extends Effect.Service<SyncSupervisor>()("orw/SyncSupervisor", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const settings = yield* SyncSettings
    const keySync = yield* KeySync
    const bus = yield* EventBus
    const lease = yield* SyncLease
    // One reconciliation at a time: the event stream and the timer both run it.
    const reconciling = yield* Effect.makeSemaphore(1)
    const fibers = yield* FiberMap.make<ApiKeyId>()
    // The keys with a fiber after each reconciliation, for whoever waits on a change (tests, diagnostics).
    const runningSet = yield* SubscriptionRef.make<ReadonlyArray<ApiKeyId>>([])
    // The global bound on concurrent upstream work, over all keys.
    const permits = yield* Effect.makeSemaphore(settings.maxConcurrent)

    const syncOnce = (keyId: ApiKeyId) =>
      permits
        .withPermits(1)(keySync.syncKey(keyId, originOf("sync"), null))
        .pipe(
          Effect.tap((result) =>
            result.outcome === "ok"
              ? Effect.logDebug("key synced")
              : Effect.logWarning(`key sync ${result.outcome}: ${result.error}`)
          ),
          // Switched off since the fibers were last reconciled: the next reconcile stops this fiber.
          Effect.catchTag("KeyInactive", () => Effect.logDebug("key inactive; not synced")),
          Effect.catchAllCause((cause) => Effect.logError("key sync crashed", cause)),
          Effect.annotateLogs({ keyId })
        )

    /** First sync soon (a new key shows figures quickly), spread so keys don't fire together. */
    const keyLoop = (keyId: ApiKeyId) =>
      Effect.gen(function* () {
        const firstDelay = Math.min(Duration.toMillis(settings.interval), 5_000)
        yield* Effect.sleep(Duration.millis(yield* Random.nextIntBetween(0, Math.max(1, firstDelay))))
        yield* Effect.repeat(syncOnce(keyId), Schedule.spaced(settings.interval).pipe(Schedule.jittered))
      })

    const pollable = Effect.provideService(ApiKeys.polled, SqlClient.SqlClient, sql).pipe(
      Effect.map((keys) => new Set(keys.map((k) => k.id)))
    )

    const runningKeys = Effect.sync(() => Array.from(fibers, ([keyId]) => keyId).sort())

    /**
     * Starts fibers for keys that need one and whose lease this instance gets (with several instances,
     * the others poll the rest), and stops those of keys that no longer need one, freeing their lease.
     * A lost lease session stops every fiber first: its leases may already be another instance's.
     */
    const reconcile = reconciling
      .withPermits(1)(
        Effect.gen(function* () {
          if (!(yield* lease.alive)) yield* FiberMap.clear(fibers)
          const wanted = yield* pollable
          const running = new Set(yield* runningKeys)
          for (const keyId of running) {
            if (!wanted.has(keyId)) {
              yield* FiberMap.remove(fibers, keyId)
              yield* lease.release(keyId)
            }
          }
          for (const keyId of wanted) {
            if (!running.has(keyId) && (yield* lease.acquire(keyId))) {
              yield* FiberMap.run(fibers, keyId, keyLoop(keyId), { onlyIfMissing: true })
            }
          }
          yield* SubscriptionRef.set(runningSet, yield* runningKeys)
        })
      )
      .pipe(Effect.withSpan("SyncSupervisor.reconcile"))

    const events = yield* bus.subscribe
    yield* Stream.fromQueue(events).pipe(
      Stream.filter((stored) => KEYSET_EVENTS.has(stored.type)),
      Stream.debounce("50 millis"),
      Stream.runForEach(() => reconcile),
      Effect.forkScoped
    )
    yield* reconcile.pipe(Effect.repeat(Schedule.spaced(settings.reconcileInterval)), Effect.forkScoped)

    /** The daily validation pass: every polled key is checked against upstream at least this often. */
    const validateAll = Effect.flatMap(runningKeys, (ids) =>
      Effect.forEach(ids, syncOnce, { concurrency: settings.maxConcurrent, discard: true })
    )
    yield* Effect.sleep(settings.validationInterval).pipe(
      Effect.zipRight(validateAll),
      Effect.forever,
      Effect.forkScoped
    )

    /**
     * The daily usage reconciliation (openrouter-api.md, item 7): every key this instance syncs that was not
     * reconciled in the last interval (`key_sync.reconciled_at`, so restarts do not skip or repeat it) is
     * reconciled, under the same bound on concurrent upstream work as the syncs.
     */
    const reconcileUsageOf = (keyId: ApiKeyId) =>
      permits
        .withPermits(1)(keySync.reconcileKey(keyId, originOf("sync"), null))
        .pipe(
          Effect.tap((result) =>
            result.outcome !== "ok"
              ? Effect.logWarning(`key reconciliation ${result.outcome}: ${result.error}`)
              : result.found.length > 0
                ? Effect.logWarning(`key reconciliation found ${result.found.length} discrepancies; healed`)
                : Effect.logDebug("key reconciled")
          ),
          Effect.catchTag("KeyInactive", () => Effect.void),
          Effect.catchAllCause((cause) => Effect.logError("key reconciliation crashed", cause)),
          Effect.annotateLogs({ keyId })
        )
    const reconcileUsageDue = Effect.gen(function* () {
      const before = DateTime.subtractDuration(yield* DateTime.now, settings.usageReconciliationInterval)
      const due = yield* Effect.provideService(
        SyncStatus.dueForReconciliation(yield* runningKeys, DateTime.formatIso(before)),
        SqlClient.SqlClient,
        sql
      )
      yield* Effect.forEach(
        due.map((id) => ApiKeyId.make(id)),
        reconcileUsageOf,
        {
          concurrency: settings.maxConcurrent,
          discard: true
        }
      )
    })
    yield* reconcileUsageDue.pipe(
      Effect.repeat(Schedule.spaced(settings.usageReconciliationCheck)),
      Effect.delay(Duration.min(settings.usageReconciliationCheck, Duration.minutes(1))),
      Effect.forkScoped
    )

    return {
      reconcile,
      /** Ids of the keys that have a sync fiber now, sorted. */
      running: runningKeys,
      /** The sorted ids of the keys with a fiber: now, then after every reconciliation. */
      changes: runningSet.changes
    } as const
  }),
  dependencies: [KeySync.Default, SyncLease.Default]
}) {}
