import { describe, expect, it } from "@effect/vitest"
import { ApiKeyCommands, ApiKeyId, KeyInactive, UserId } from "@orw/domain"
import { DateTime, Effect, type Layer, Logger, Option, TestClock } from "effect"
import { originOf } from "../../src/App/Origin.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { KeySync } from "../../src/OpenRouter/KeySync.js"
import { Fault, Simulator } from "../../src/OpenRouter/Simulator.js"
import * as ApiKeys from "../../src/Projections/ApiKeys.js"
import { effectiveUsage } from "../../src/Projections/UsageStats.js"
import * as Balances from "../../src/SideTables/Balances.js"
import { testMetadata } from "../support/Fixtures.js"
import { eventCount, eventTypesAfter, registerUser, sqlRows, storeKey, syncLayer } from "../support/SyncHarness.js"

/** A simulator on loopback and the sync pointed at it, for one test. */
const withSync = <A, E>(
  body: (sim: Simulator) => Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof syncLayer>>>
) =>
  Effect.gen(function* () {
    const sim = new Simulator()
    const running = yield* sim.serve()
    return yield* body(sim).pipe(Effect.provide(syncLayer(running.url)))
  })

const sync = (keyId: string) => Effect.flatMap(KeySync, (s) => s.syncKey(ApiKeyId.make(keyId), originOf("sync"), null))
const today = () => DateTime.formatIsoDateUtc(DateTime.unsafeNow())
const editKey = (keyId: string, change: { readonly isActive: boolean }) =>
  Effect.flatMap(Dispatcher, (d) =>
    d.dispatch(
      new ApiKeyCommands.EditKey({
        keyId: ApiKeyId.make(keyId),
        userId: UserId.make("u1"),
        ...change,
        at: DateTime.unsafeNow()
      }),
      { metadata: testMetadata() }
    )
  )

/** The key's row as the API shows it (the contract), not its table's columns. */
const keyRow = (keyId: string) =>
  Effect.map(ApiKeys.rowById(ApiKeyId.make(keyId)), (found) => Option.getOrUndefined(found)?.row)

/** What counts as the user's usage (the read model's effective rows): date, model, requests, tokens in, cost. */
const usageOf = (userId: string, keyId?: string) =>
  Effect.map(effectiveUsage({ userId, keyId }), (lines) =>
    lines.map((l) => ({
      date: l.date,
      model: l.model,
      requests: l.requests,
      tokens_input: l.tokensInput,
      cost: l.cost
    }))
  )

describe("KeySync through the simulator", () => {
  it.scopedLive("the first GET /key is the baseline: status recorded, no usage", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey({ limit: 100, usage: { total: 25.5, daily: 1.25, weekly: 8, monthly: 25.5 } })
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        const before = yield* eventCount
        const result = yield* sync("k1")
        expect(result.outcome).toBe("ok")
        expect(yield* eventTypesAfter(before)).toEqual(["KeyStatusRecorded"])
        const row = yield* keyRow("k1")
        expect(row).toMatchObject({ status: "active", limit: 100, usage_total: 25.5, is_management_key: false })
        expect(row?.label).toBe(`sk-or-v1-${key.slice(9, 12)}...${key.slice(-3)}`)
        expect(row?.last_synced_at).not.toBeNull()
      })
    )
  )

  it.scopedLive("growth of all-time usage is unattributed usage of today; nothing new appends nothing", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey({ usage: { total: 10 } })
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        yield* sync("k1")
        sim.addUsage(key, 1.5, { model: "openai/gpt-4.1" })
        const before = yield* eventCount
        yield* sync("k1")
        expect(yield* eventTypesAfter(before)).toEqual(["KeyStatusRecorded", "UsageRecorded"])
        expect(yield* usageOf("u1")).toEqual([
          { date: today(), model: "unattributed", requests: 0, tokens_input: 0, cost: 1_500_000 }
        ])
        const settled = yield* eventCount
        yield* sync("k1")
        yield* sync("k1")
        expect(yield* eventCount).toBe(settled)
      })
    )
  )

  it.scopedLive("a decrease of all-time usage records no usage, and is logged", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey({ usage: { total: 10 } })
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        yield* sync("k1")
        sim.key(key).usage.total -= 2_000_000_000
        const before = yield* eventCount
        const warnings: Array<string> = []
        const capture = Logger.make(({ logLevel, message }) => {
          if (logLevel._tag === "Warning") warnings.push(String(message))
        })
        yield* sync("k1").pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
        expect(yield* eventTypesAfter(before)).toEqual(["KeyStatusRecorded"])
        expect(yield* usageOf("u1")).toEqual([])
        expect(warnings).toEqual(["OpenRouter reported a lower all-time usage than before; ignored"])
      })
    )
  )

  it.scopedLive("401 marks the key invalid once", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey()
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        sim.key(key).disabled = true
        const before = yield* eventCount
        const first = yield* sync("k1")
        const second = yield* sync("k1")
        expect([first.outcome, second.outcome]).toEqual(["invalid", "invalid"])
        expect(yield* eventTypesAfter(before)).toEqual(["KeyMarkedInvalid"])
        expect((yield* keyRow("k1"))?.status).toBe("invalid")
        // 401 is final: it was asked once per sync, never retried.
        expect(sim.count("/key")).toBe(2)
      })
    )
  )

  it.scopedLive("an inactive key is not synced: KeyInactive, no upstream call, nothing recorded", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey({ usage: { total: 4 } })
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        yield* editKey("k1", { isActive: false })
        const before = yield* eventCount
        const refused = yield* Effect.flip(sync("k1"))
        expect(refused).toBeInstanceOf(KeyInactive)
        expect(refused.message).toBe("API key is inactive: activate it to sync")
        expect(sim.count("/key")).toBe(0)
        expect(yield* eventTypesAfter(before)).toEqual([])
        expect((yield* keyRow("k1"))?.last_synced_at).toBeNull()
        // Switched on again, it syncs as any key.
        yield* editKey("k1", { isActive: true })
        expect((yield* sync("k1")).outcome).toBe("ok")
        expect(sim.count("/key")).toBe(1)
      })
    )
  )

  it.scopedLive("429 with Retry-After waits at least that long, then succeeds", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey()
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        sim.fail("/key", Fault.rateLimited(1), 1)
        const started = Date.now()
        const result = yield* sync("k1")
        const waited = Date.now() - started
        expect(result.outcome).toBe("ok")
        expect(waited).toBeGreaterThanOrEqual(1000)
        const calls = sim.requests.filter((r) => r.endpoint === "/key")
        expect(calls).toHaveLength(2)
        expect(calls[1]!.at.getTime() - calls[0]!.at.getTime()).toBeGreaterThanOrEqual(1000)
      })
    )
  )

  it.scopedLive("a burst of faults ends in one sync-failed fact, the last good figures kept, then recovery", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const key = sim.addKey({ usage: { total: 3 } })
        yield* registerUser("u1")
        yield* storeKey("u1", "k1", key)
        yield* sync("k1")
        const before = yield* eventCount
        sim.fail("/key", Fault.serverError(), 4).fail("/key", Fault.truncated(), 4).fail("/key", Fault.reset(), 4)
        const outcomes = [yield* sync("k1"), yield* sync("k1"), yield* sync("k1")].map((r) => r.outcome)
        expect(outcomes).toEqual(["failed", "failed", "failed"])
        expect(yield* eventTypesAfter(before)).toEqual(["KeySyncFailed"])
        const failing = yield* keyRow("k1")
        expect(failing).toMatchObject({ status: "failing", usage_total: 3 })
        expect(failing?.last_error).toBeTruthy()
        expect(failing?.last_error).not.toContain(key)
        const recovered = yield* sync("k1")
        expect(recovered.outcome).toBe("ok")
        expect(yield* eventTypesAfter(before)).toEqual(["KeySyncFailed", "KeyStatusRecorded"])
        expect(yield* keyRow("k1")).toMatchObject({ status: "active", last_error: null })
      })
    )
  )

  it.scopedLive("activity through a management key: summed per (date, model), absolute, superseding unattributed", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const mgmt = sim.addKey({ isManagementKey: true })
        const key = sim.addKey({ usage: { total: 1 } })
        const yesterday = DateTime.formatIsoDateUtc(DateTime.subtract(DateTime.unsafeNow(), { days: 1 }))
        const old = DateTime.formatIsoDateUtc(DateTime.subtract(DateTime.unsafeNow(), { days: 20 }))
        const row = { requests: 2, promptTokens: 10, completionTokens: 20 }
        sim.addUsage(key, 0.5, { ...row, model: "openai/gpt-4.1", provider: "OpenAI", date: yesterday })
        sim.addUsage(key, 0.25, { ...row, model: "openai/gpt-4.1", provider: "Azure", date: yesterday })
        sim.addUsage(key, 0.125, { ...row, model: "anthropic/claude-sonnet-4", date: old })
        yield* registerUser("u1")
        yield* storeKey("u1", "mgmt", mgmt)
        yield* storeKey("u1", "k1", key)
        yield* sync("mgmt")
        yield* sync("k1")
        expect(yield* usageOf("u1", "k1")).toEqual([
          { date: old, model: "anthropic/claude-sonnet-4", requests: 2, tokens_input: 10, cost: 125_000 },
          { date: yesterday, model: "openai/gpt-4.1", requests: 4, tokens_input: 20, cost: 750_000 }
        ])
        // Afterwards only the last 3 days are taken again: a revision of an old day is not re-read.
        sim.addUsage(key, 1, { ...row, model: "anthropic/claude-sonnet-4", date: old })
        sim.addUsage(key, 1, { ...row, model: "openai/gpt-4.1", provider: "OpenAI", date: yesterday })
        const before = yield* eventCount
        yield* sync("k1")
        const types = yield* eventTypesAfter(before)
        expect(types.filter((t) => t === "UsageRecorded")).toHaveLength(2) // today's unattributed growth + yesterday
        const effective = yield* effectiveUsage({ userId: "u1", keyId: "k1" })
        expect(effective.map((r) => [r.date, r.model, r.cost])).toEqual([
          [old, "anthropic/claude-sonnet-4", 125_000],
          [yesterday, "openai/gpt-4.1", 1_750_000],
          [today(), "unattributed", 2_000_000]
        ])
        const activityCalls = sim.requests.filter((r) => r.endpoint === "/activity")
        expect(activityCalls.at(-1)?.query.api_key_hash).toBe(sim.key(key).hash)
      })
    )
  )

  it.scoped("per-model rows of a completed day supersede its unattributed row", () =>
    Effect.gen(function* () {
      // One clock for the sync (TestClock) and the simulator, so "today" is the same day for both.
      let now = new Date("2026-11-20T12:00:00Z")
      yield* TestClock.setTime(now.getTime())
      const sim = new Simulator({ now: () => now })
      const running = yield* sim.serve()
      yield* Effect.gen(function* () {
        const mgmt = sim.addKey({ isManagementKey: true })
        const key = sim.addKey({ usage: { total: 1 } })
        yield* registerUser("u1")
        yield* storeKey("u1", "mgmt", mgmt)
        yield* storeKey("u1", "k1", key)
        yield* sync("mgmt")
        yield* sync("k1")
        // Without today's hourly analytics (refused here), today's growth shows as unattributed.
        sim.fail("/analytics/query", Fault.forbidden(), Number.POSITIVE_INFINITY)
        sim.addUsage(key, 0.5, { model: "openai/gpt-4.1", requests: 3 })
        yield* sync("k1")
        sim.faults.clear()
        const runningDay = yield* effectiveUsage({ userId: "u1" })
        expect(runningDay.map((r) => [r.date, r.model, r.cost])).toEqual([["2026-11-20", "unattributed", 500_000]])
        // The day completes: activity now reports it per model, which replaces the unattributed row.
        now = new Date("2026-11-21T12:00:00Z")
        yield* TestClock.setTime(now.getTime())
        yield* sync("k1")
        const completed = yield* effectiveUsage({ userId: "u1" })
        expect(completed.map((r) => [r.date, r.model, r.requests, r.cost])).toEqual([
          ["2026-11-20", "openai/gpt-4.1", 3, 500_000]
        ])
        const stored = yield* sqlRows((sql) => sql<{ model: string }>`SELECT model FROM usage_stats ORDER BY model`)
        expect(stored.map((r) => r.model)).toEqual(["openai/gpt-4.1", "unattributed"])
      }).pipe(Effect.provide(syncLayer(running.url)))
    })
  )

  it.scopedLive("the balance comes from /credits through a management key; unknown is never $0", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        sim.scenario.credits = { totalCredits: 100_500_000_000, totalUsage: 25_750_000_000 }
        const mgmt = sim.addKey({ isManagementKey: true })
        const plain = sim.addKey()
        yield* registerUser("u1")
        yield* registerUser("u2")
        yield* storeKey("u1", "mgmt", mgmt)
        yield* storeKey("u2", "plain", plain)
        yield* sync("mgmt")
        yield* sync("plain")
        // Credits 100.50 − usage 25.75, as the dashboard shows it; the user without a management key: unknown.
        expect((yield* Balances.of("u1")).balance).toBe(74.75)
        expect(yield* Balances.of("u2")).toEqual({ balance: null, updatedAt: null })
      })
    )
  )

  it.scopedLive("a key whose SHA-256 is not listed is mapped by its label (the one entry with that label)", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const mgmt = sim.addKey({ isManagementKey: true })
        const key = sim.addKey()
        const label = sim.key(key).label
        // OpenRouter lists the key under another hash (say, a key re-created with the same label).
        sim.fail(
          "/keys",
          Fault.mapData((item) => (item.label === label ? { ...item, hash: "f".repeat(64) } : item)),
          Number.POSITIVE_INFINITY
        )
        yield* registerUser("u1")
        yield* storeKey("u1", "mgmt", mgmt)
        yield* storeKey("u1", "k1", key)
        yield* sync("mgmt")
        yield* sync("k1")
        const activity = sim.requests.filter((r) => r.endpoint === "/activity")
        expect(activity.map((r) => r.query.api_key_hash)).toEqual(["f".repeat(64)])
      })
    )
  )

  it.scopedLive("a key that is neither listed by hash nor by a unique label gets no activity call", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const mgmt = sim.addKey({ isManagementKey: true })
        const key = sim.addKey()
        sim.fail(
          "/keys",
          Fault.mapData((item) => ({ ...item, hash: "0".repeat(64), label: "sk-or-v1-000...000" })),
          99
        )
        yield* registerUser("u1")
        yield* storeKey("u1", "mgmt", mgmt)
        yield* storeKey("u1", "k1", key)
        yield* sync("mgmt")
        const result = yield* sync("k1")
        expect(result.outcome).toBe("ok")
        expect(sim.count("/activity")).toBe(0)
      })
    )
  )

  it.scopedLive("a balance OpenRouter will not give (403 or all zero) is unknown, never $0", () =>
    withSync((sim) =>
      Effect.gen(function* () {
        const first = sim.addKey({ isManagementKey: true })
        const second = sim.addKey({ isManagementKey: true })
        yield* registerUser("u1")
        yield* registerUser("u2")
        yield* storeKey("u1", "m1", first)
        yield* storeKey("u2", "m2", second)
        sim.fail("/credits", Fault.forbidden(), 1)
        yield* sync("m1")
        sim.fail(
          "/credits",
          Fault.mapData(() => ({ total_credits: 0, total_usage: 0 })),
          1
        )
        yield* sync("m2")
        // A 403 or an all-zero answer is "unknown", never $0.
        expect(yield* Balances.of("u1")).toEqual({ balance: null, updatedAt: null })
        expect(yield* Balances.of("u2")).toEqual({ balance: null, updatedAt: null })
      })
    )
  )
})
