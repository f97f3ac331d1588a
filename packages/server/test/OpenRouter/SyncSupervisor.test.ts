import { describe, expect, it } from "@effect/vitest"
import { ApiKeyCommands, ApiKeyId, UserId } from "@orw/domain"
import { DateTime, Duration, Effect, Exit, Layer, Schedule, Scope, Stream } from "effect"
import { Dispatcher } from "../../src/Dispatcher.js"
import { Fault, Simulator } from "../../src/OpenRouter/Simulator.js"
import { SyncSupervisor } from "../../src/OpenRouter/SyncSupervisor.js"
import * as ApiKeys from "../../src/Projections/ApiKeys.js"
import * as SyncStatus from "../../src/SideTables/SyncStatus.js"
import { testMetadata } from "../support/Fixtures.js"
import {
  eventCount,
  eventTypesAfter,
  fastSettings,
  registerUser,
  sawKeyEvent,
  storeKey,
  syncLayer,
  watchEvents
} from "../support/SyncHarness.js"

const settings = { ...fastSettings, interval: Duration.millis(300) }

const running = Effect.flatMap(SyncSupervisor, (s) => s.running)

/** Waits, without polling, until the supervisor's fiber set is exactly `ids` (it reconciles on key events). */
const fibersFor = (...ids: ReadonlyArray<string>) =>
  Effect.flatMap(SyncSupervisor, (s) =>
    s.changes.pipe(
      Stream.filter((running) => running.join() === ids.join()),
      Stream.runHead,
      Effect.timeoutFail({
        duration: "10 seconds",
        onTimeout: () => new Error(`the fibers never became [${ids.join()}]`)
      }),
      Effect.orDie
    )
  )

/** The user's key rows as the API shows them (the contract), by id. */
const rows = (userId: string) =>
  Effect.map(ApiKeys.rowsOf(UserId.make(userId)), (list) => new Map(list.map((row) => [row.id as string, row])))

const setActive = (keyId: string, isActive: boolean) =>
  Effect.flatMap(Dispatcher, (d) =>
    d.dispatch(
      new ApiKeyCommands.EditKey({
        keyId: ApiKeyId.make(keyId),
        userId: UserId.make("u1"),
        isActive,
        at: DateTime.unsafeNow()
      }),
      { metadata: testMetadata() }
    )
  )

const deleteKey = (keyId: string) =>
  Effect.flatMap(Dispatcher, (d) =>
    d.dispatch(
      new ApiKeyCommands.DeleteKey({
        keyId: ApiKeyId.make(keyId),
        userId: UserId.make("u1"),
        at: DateTime.unsafeNow()
      }),
      {
        metadata: testMetadata()
      }
    )
  )

describe("SyncSupervisor", () => {
  it.scopedLive("the fiber set follows the keys without a restart", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const a = sim.addKey()
      const b = sim.addKey()
      yield* Effect.gen(function* () {
        const events = yield* watchEvents
        yield* registerUser("u1")
        expect(yield* running).toEqual([])
        yield* storeKey("u1", "ka", a)
        yield* fibersFor("ka")
        yield* storeKey("u1", "kb", b)
        yield* fibersFor("ka", "kb")
        // The fibers really sync: each key gets its status recorded, and its row shows it.
        yield* events.until((seen) => ["ka", "kb"].every((k) => sawKeyEvent(seen, "KeyStatusRecorded", k)))
        const synced = yield* rows("u1")
        expect([synced.get("ka")?.status, synced.get("kb")?.status]).toEqual(["active", "active"])
        expect(synced.get("ka")?.usage_total).not.toBeNull()
        yield* setActive("ka", false)
        yield* fibersFor("kb")
        yield* setActive("ka", true)
        yield* fibersFor("ka", "kb")
        yield* deleteKey("kb")
        yield* fibersFor("ka")
        // Upstream refuses the key: it is marked invalid once and loses its fiber.
        sim.key(a).disabled = true
        yield* fibersFor()
        expect((yield* rows("u1")).get("ka")?.status).toBe("invalid")
      }).pipe(
        Effect.provide(SyncSupervisor.Default.pipe(Layer.provideMerge(syncLayer(server.url, ":memory:", settings))))
      )
    })
  )

  it.scopedLive("the daily reconciliation pass reconciles each synced key once per interval", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const good = sim.addKey({ usage: { total: 5 } })
      const often = {
        ...settings,
        usageReconciliationCheck: Duration.millis(100),
        usageReconciliationInterval: Duration.hours(24)
      }
      yield* Effect.gen(function* () {
        const events = yield* watchEvents
        yield* registerUser("u1")
        yield* storeKey("u1", "good", good)
        yield* events.until((seen) => sawKeyEvent(seen, "KeyStatusRecorded", "good"))
        yield* SyncStatus.reconciledAt("good").pipe(
          Effect.repeat({ until: (at) => at !== null, schedule: Schedule.spaced("50 millis") }),
          Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("never reconciled") })
        )
        const first = yield* SyncStatus.reconciledAt("good")
        expect(first).not.toBeNull()
        // Many checks later, still the same pass: once a day, not once a check.
        yield* Effect.sleep("1 second")
        expect(yield* SyncStatus.reconciledAt("good")).toBe(first)
      }).pipe(Effect.provide(SyncSupervisor.Default.pipe(Layer.provideMerge(syncLayer(server.url, ":memory:", often)))))
    })
  )

  it.scopedLive("a failing key never stops the others", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const bad = sim.addKey()
      const good = sim.addKey({ usage: { total: 1 } })
      sim.fail("/key", Fault.serverError(), 1_000_000)
      yield* Effect.gen(function* () {
        const events = yield* watchEvents
        yield* registerUser("u1")
        yield* storeKey("u1", "good", good)
        yield* storeKey("u1", "bad", bad)
        // Every call fails for a while: both keys show failing.
        yield* events.until((seen) => ["good", "bad"].every((k) => sawKeyEvent(seen, "KeySyncFailed", k)))
        const failing = yield* rows("u1")
        expect([failing.get("good")?.status, failing.get("bad")?.status]).toEqual(["failing", "failing"])
        // Then only the bad key stays broken: upstream refuses it, the good one recovers and records usage.
        sim.faults.clear()
        sim.key(bad).disabled = true
        yield* events.until((seen) => sawKeyEvent(seen, "KeyStatusRecorded", "good"))
        yield* events.until((seen) => sawKeyEvent(seen, "KeyMarkedInvalid", "bad"))
        sim.addUsage(good, 2)
        yield* events.until((seen) => sawKeyEvent(seen, "UsageRecorded", "good"))
        yield* fibersFor("good")
        const after = yield* rows("u1")
        expect([after.get("good")?.status, after.get("bad")?.status]).toEqual(["active", "invalid"])
        expect(after.get("good")?.usage_total).toBe(3)
      }).pipe(
        Effect.provide(SyncSupervisor.Default.pipe(Layer.provideMerge(syncLayer(server.url, ":memory:", settings))))
      )
    })
  )

  it.scopedLive("shutdown interrupts an in-flight call and leaves no partial write", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const key = sim.addKey()
      sim.fail("/key", Fault.latency(30_000), 10)
      const base = syncLayer(server.url, ":memory:", settings)
      yield* Effect.gen(function* () {
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        const before = yield* eventCount
        const scope = yield* Scope.make()
        yield* Layer.buildWithScope(SyncSupervisor.Default, scope)
        // The call is in flight (upstream holds it for 30 s) when the scope closes.
        yield* Effect.promise(() => sim.reached("/key"))
        const started = Date.now()
        yield* Scope.close(scope, Exit.void)
        expect(Date.now() - started).toBeLessThan(2_000)
        expect(yield* eventTypesAfter(before)).toEqual([])
        // Nothing recorded of the interrupted attempt: no event, and the key shows no sync yet.
        expect((yield* rows("u1")).get("k1")?.last_synced_at).toBeNull()
        expect((yield* SyncStatus.ofKeys(["k1"])).size).toBe(0)
      }).pipe(Effect.provide(base))
    })
  )
})
