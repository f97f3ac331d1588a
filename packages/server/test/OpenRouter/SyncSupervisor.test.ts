import { describe, expect, it } from "@effect/vitest"
import { ApiKeyCommands, ApiKeyId, UserId } from "@orw/domain"
import { DateTime, Duration, Effect, Exit, Layer, Scope } from "effect"
import { Dispatcher } from "../../src/Dispatcher.js"
import { Fault, Simulator } from "../../src/OpenRouter/Simulator.js"
import { SyncSupervisor } from "../../src/OpenRouter/SyncSupervisor.js"
import { testMetadata } from "../support/Fixtures.js"
import {
  eventCount,
  eventTypesAfter,
  fastSettings,
  registerUser,
  sqlRows,
  storeKey,
  syncLayer
} from "../support/SyncHarness.js"

const settings = { ...fastSettings, interval: Duration.millis(300) }

const running = Effect.flatMap(SyncSupervisor, (s) => s.running)

/** Polls `check` until it holds (or fails the test after `timeoutMs`). */
const eventually = <A, E, R>(check: Effect.Effect<A, E, R>, holds: (a: A) => boolean, timeoutMs = 5_000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = yield* check
      if (holds(value)) return value
      if (Date.now() > deadline)
        return yield* Effect.dieMessage(`condition not met in ${timeoutMs} ms: ${JSON.stringify(value)}`)
      yield* Effect.sleep("25 millis")
    }
  })

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
        yield* registerUser("u1")
        expect(yield* running).toEqual([])
        yield* storeKey("u1", "ka", a)
        yield* eventually(running, (ids) => ids.join() === "ka")
        yield* storeKey("u1", "kb", b)
        yield* eventually(running, (ids) => ids.join() === "ka,kb")
        // The fibers really sync: each key gets its status recorded.
        yield* eventually(
          sqlRows((sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM api_keys WHERE status_recorded_at IS NOT NULL`),
          (rows) => rows[0]?.n === 2
        )
        yield* setActive("ka", false)
        yield* eventually(running, (ids) => ids.join() === "kb")
        yield* setActive("ka", true)
        yield* eventually(running, (ids) => ids.join() === "ka,kb")
        yield* deleteKey("kb")
        yield* eventually(running, (ids) => ids.join() === "ka")
        sim.key(a).disabled = true
        yield* eventually(running, (ids) => ids.length === 0)
      }).pipe(
        Effect.provide(SyncSupervisor.Default.pipe(Layer.provideMerge(syncLayer(server.url, ":memory:", settings))))
      )
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
        yield* registerUser("u1")
        yield* storeKey("u1", "good", good)
        yield* storeKey("u1", "bad", bad)
        // Every call fails for a while; then only the bad key stays broken.
        yield* eventually(
          sqlRows((sql) => sql<{ id: string }>`SELECT id FROM api_keys WHERE is_failing = 1 ORDER BY id`),
          (rows) => rows.length === 2
        )
        sim.faults.clear()
        sim.key(bad).disabled = true
        yield* eventually(
          sqlRows((sql) => sql<{ id: string }>`SELECT id FROM api_keys WHERE status_recorded_at IS NOT NULL`),
          (rows) => rows.length === 1 && rows[0]?.id === "good"
        )
        sim.addUsage(good, 2)
        yield* eventually(
          sqlRows((sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM usage_stats WHERE api_key_id = 'good'`),
          (rows) => rows[0]?.n === 1
        )
        yield* eventually(running, (ids) => ids.join() === "good")
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
        yield* eventually(
          Effect.sync(() => sim.count("/key")),
          (n) => n >= 1
        )
        const started = Date.now()
        yield* Scope.close(scope, Exit.void)
        expect(Date.now() - started).toBeLessThan(2_000)
        expect(yield* eventTypesAfter(before)).toEqual([])
        expect(yield* sqlRows((sql) => sql`SELECT * FROM key_sync`)).toEqual([])
      }).pipe(Effect.provide(base))
    })
  )
})
