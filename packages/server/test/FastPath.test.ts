/**
 * The command path's fast path on SQLite: a planned command (RecordUsage, EvaluateSpike) whose streams are
 * current in the state cache is decided at once and written as one synchronous step of the group commit.
 * It must decide exactly what the full path decides, and a batch of such steps must keep each command's
 * failure to itself.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import {
  ApiKeyId,
  BudgetCommands,
  BudgetId,
  ConcurrencyConflict,
  type DomainEvent,
  type Micros,
  Streams,
  UsageCommands,
  UsageEvents,
  UserId,
  UtcDate
} from "@orw/domain"
import { type Context, DateTime, Effect, Either, Exit, Layer, TestClock } from "effect"
import fc from "fast-check"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import { GroupCommit } from "../src/GroupCommit.js"
import * as Sql from "../src/Sql.js"
import { addKey, register, testMetadata } from "./support/Fixtures.js"

const tempFile = () => NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-fast-")), "app.db")

type Services = Dispatcher | EventStore | SqlClient.SqlClient
const NOW = "2026-11-29T10:00:00Z"

const usage = (keyId: string, date: string, cost: number, mode: "increment" | "absolute" = "increment") =>
  new UsageCommands.RecordUsage({
    keyId: ApiKeyId.make(keyId),
    date: UtcDate.make(date),
    model: "m",
    mode,
    figures: { requests: 1, tokensInput: 10, tokensOutput: 5, cost: cost as Micros, byokCost: 0 },
    at: DateTime.unsafeMake(NOW)
  })

const dispatchOn = (ctx: Context.Context<Services>, command: Parameters<Dispatcher["dispatch"]>[0]) =>
  Effect.provide(
    Effect.either(Effect.flatMap(Dispatcher, (d) => d.dispatch(command, { metadata: testMetadata() }))),
    ctx
  )

/** Every event of the log as a decision made it: stream, version, type and data (not when it was recorded). */
const logOf = (ctx: Context.Context<Services>) =>
  Effect.provide(
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql<{ stream_id: string; stream_version: number; type: string; data: string }>`SELECT stream_id,
        stream_version, type, data FROM events ORDER BY position`
    ),
    ctx
  )

const usageStatsOf = (ctx: Context.Context<Services>) =>
  Effect.provide(
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql`SELECT api_key_id, date, model, requests_count, cost_micros FROM usage_stats
        ORDER BY api_key_id, date, model`
    ),
    ctx
  )

/** User u1 with keys k1 and k2, a daily account budget of $2 and a monthly one of $3 on k1. */
const setUp = (ctx: Context.Context<Services>) =>
  Effect.all([
    dispatchOn(ctx, register("u1", "u1@example.com")),
    dispatchOn(ctx, addKey("k1", "u1")),
    dispatchOn(ctx, addKey("k2", "u1")),
    dispatchOn(ctx, budget("b-account", "account", null, 2_000_000, "daily", [50, 100])),
    dispatchOn(ctx, budget("b-key", "key", ApiKeyId.make("k1"), 3_000_000, "monthly", [100]))
  ])

const budget = (
  id: string,
  scope: "account" | "key",
  keyId: ApiKeyId | null,
  amount: number,
  period: "daily" | "monthly",
  thresholds: Array<number>
) =>
  new BudgetCommands.CreateBudget({
    budgetId: BudgetId.make(id),
    userId: UserId.make("u1"),
    scope,
    keyId,
    amount,
    period,
    thresholds,
    at: DateTime.unsafeMake(NOW)
  })

describe("the fast path of planned commands", () => {
  it.scoped("decides what the full path decides, events and read tables alike, spikes and rejections included", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake(NOW)))
      const day = fc.integer({ min: 18, max: 29 }).map((d) => `2026-11-${d}`)
      const command = fc.record({
        key: fc.constantFrom("k1", "k2", "k-unknown"),
        date: day,
        cost: fc.oneof(fc.integer({ min: 0, max: 3_000_000 }), fc.constant(0)),
        mode: fc.constantFrom("increment" as const, "absolute" as const)
      })
      let spikes = 0
      let crossings = 0
      let rejections = 0
      const samples = fc.sample(fc.array(command, { minLength: 5, maxLength: 40 }), { numRuns: 12, seed: 20261202 })
      for (const commands of samples) {
        // A: as the server runs them (after each key's first command, every stream is current in the cache).
        // B: each command inside a transaction of the caller's, where every stream is read: the full path.
        const a = yield* Layer.build(Core.layerFile(tempFile()))
        const b = yield* Layer.build(Core.layerFile(tempFile()))
        yield* setUp(a)
        yield* setUp(b)
        for (const c of commands) {
          const fast = yield* dispatchOn(a, usage(c.key, c.date, c.cost, c.mode))
          const full = yield* Effect.provide(
            Effect.flatMap(SqlClient.SqlClient, (sql) =>
              sql.withTransaction(dispatchOn(b, usage(c.key, c.date, c.cost, c.mode)))
            ),
            b
          )
          expect(Either.isLeft(fast)).toBe(Either.isLeft(full))
          if (Either.isLeft(fast) && Either.isLeft(full)) {
            rejections++
            expect(fast.left._tag).toBe(full.left._tag)
          }
        }
        const log = yield* logOf(a)
        expect(log).toEqual(yield* logOf(b))
        expect(yield* usageStatsOf(a)).toEqual(yield* usageStatsOf(b))
        spikes += log.filter((row) => row.type === "KeySpendSpiked").length
        crossings += log.filter((row) => row.type === "BudgetThresholdCrossed").length
      }
      // The samples do reach the branches the fast path must get right: spikes, budget crossings, rejections.
      expect(spikes).toBeGreaterThan(0)
      expect(crossings).toBeGreaterThan(0)
      expect(rejections).toBeGreaterThan(0)
    })
  )

  it.scoped("a spike fires after the usage that makes it, once a day, while its streams are current", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake(NOW)))
      const ctx = yield* Layer.build(Core.layerFile(tempFile()))
      yield* setUp(ctx)
      // A week at $1 a day, then today $2 (not 3x the average), then $5 today: a spike; $9 today: no second one.
      for (let d = 22; d <= 28; d++) yield* dispatchOn(ctx, usage("k1", `2026-11-${d}`, 1_000_000))
      yield* dispatchOn(ctx, usage("k1", "2026-11-29", 2_000_000, "absolute"))
      const spikesNow = Effect.map(logOf(ctx), (log) => log.filter((row) => row.type === "KeySpendSpiked"))
      expect(yield* spikesNow).toHaveLength(0)
      yield* dispatchOn(ctx, usage("k1", "2026-11-29", 5_000_000, "absolute"))
      const fired = yield* spikesNow
      expect(fired).toHaveLength(1)
      expect(JSON.parse(fired[0]!.data)).toMatchObject({ keyId: "k1", date: "2026-11-29", spent: 5_000_000 })
      yield* dispatchOn(ctx, usage("k1", "2026-11-29", 9_000_000, "absolute"))
      expect(yield* spikesNow).toHaveLength(1)
    })
  )
})

describe("a group commit batch of synchronous steps", () => {
  const recorded = (keyId: string) =>
    new UsageEvents.UsageRecorded({
      keyId: ApiKeyId.make(keyId),
      userId: UserId.make("u1"),
      date: UtcDate.make("2026-11-29"),
      model: "m",
      totals: { requests: 1, tokensInput: 1, tokensOutput: 1, cost: 1 as Micros, byokCost: 0 as Micros },
      at: DateTime.unsafeMake(NOW)
    })

  /** A group commit over a fresh SQLite file, its store and its synchronous append. */
  const groupCommit = Effect.gen(function* () {
    const ctx = yield* Layer.build(
      GroupCommit.Default.pipe(Layer.provideMerge(Core.storeWith(Sql.layerFile(tempFile()))))
    )
    const store = yield* Effect.provide(EventStore, ctx)
    const appendOn = store.appendOn
    if (appendOn === undefined) return yield* Effect.dieMessage("the SQLite store appends synchronously")
    return { ctx, store, appendOn, group: yield* Effect.provide(GroupCommit, ctx) }
  })

  it.scoped("keeps each step's failure to itself: a lost race, a throw after writing, and the others commit", () =>
    Effect.gen(function* () {
      const { ctx, store, appendOn, group } = yield* groupCommit
      const write =
        (keyId: string, expectedVersion: number, events: ReadonlyArray<DomainEvent> = [recorded(keyId)]) =>
        (prepare: Parameters<typeof appendOn>[0]) =>
          appendOn(prepare, [{ streamId: Streams.usage(keyId), expectedVersion, events }], testMetadata(), [], NOW)
      const exits = yield* Effect.all(
        [
          group.commitOn(write("a", 0)),
          group.commitOn((prepare) => {
            write("c", 0)(prepare)
            throw new Error("a statement failed")
          }),
          group.commitOn(write("a", 0)),
          group.commitOn(write("b", 0))
        ].map(Effect.exit),
        { concurrency: "unbounded" }
      )
      expect(
        exits.map((exit) => (Exit.isSuccess(exit) ? "committed" : Exit.isInterrupted(exit) ? "?" : "failed"))
      ).toEqual(["committed", "failed", "failed", "committed"])
      const [, thrown, lost] = exits
      expect(Exit.isFailure(thrown!) && thrown.cause._tag).toBe("Die")
      expect(Exit.isFailure(lost!) && lost.cause._tag === "Fail" && lost.cause.error).toBeInstanceOf(
        ConcurrencyConflict
      )
      const versions = Effect.provide(
        Effect.all(["a", "b", "c"].map((k) => Effect.map(store.readStream(Streams.usage(k)), (r) => r.version))),
        ctx
      )
      // The throw's own append (stream c) was rolled back with it.
      expect(yield* versions).toEqual([1, 1, 0])
      // A step alone in its batch that throws leaves no transaction open: the next one commits.
      const alone = yield* Effect.exit(
        group.commitOn(() => {
          throw new Error("alone")
        })
      )
      expect(Exit.isFailure(alone) && alone.cause._tag).toBe("Die")
      expect(Exit.isSuccess(yield* Effect.exit(group.commitOn(write("c", 0))))).toBe(true)
      expect(yield* versions).toEqual([1, 1, 1])
    })
  )

  it.scopedLive("a step that arrives while a fiber's transaction is open waits for it, and commits after it", () =>
    Effect.gen(function* () {
      const { ctx, store, appendOn, group } = yield* groupCommit
      const sql = yield* Effect.provide(SqlClient.SqlClient, ctx)
      const open = yield* Effect.fork(
        Effect.provide(
          sql.withTransaction(
            Effect.zipLeft(
              store.append(
                [{ streamId: Streams.usage("e"), expectedVersion: 0, events: [recorded("e")] }],
                testMetadata()
              ),
              Effect.sleep("50 millis")
            )
          ),
          ctx
        )
      )
      yield* Effect.sleep("10 millis")
      const step = yield* Effect.exit(
        group.commitOn((prepare) =>
          appendOn(
            prepare,
            [{ streamId: Streams.usage("d"), expectedVersion: 0, events: [recorded("d")] }],
            testMetadata(),
            [],
            NOW
          )
        )
      )
      const inTransaction = yield* open.await
      expect(Exit.isSuccess(inTransaction)).toBe(true)
      expect(Exit.isSuccess(step)).toBe(true)
      if (Exit.isSuccess(step) && Exit.isSuccess(inTransaction)) {
        expect(step.value[0]!.position).toBeGreaterThan(inTransaction.value[0]!.position)
      }
    })
  )
})
