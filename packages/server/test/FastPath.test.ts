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
  ApiKeyCommands,
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
import { type Context, DateTime, Effect, Either, Exit, Layer, type Scope, TestClock } from "effect"
import fc from "fast-check"
import * as Core from "../src/Core.js"
import type { Database } from "../src/DatabaseUrl.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import { GroupCommit } from "../src/GroupCommit.js"
import * as Metrics from "../src/Metrics.js"
import * as Sql from "../src/Sql.js"
import { addKey, register, testMetadata } from "./support/Fixtures.js"
import { freshDatabase } from "./support/Postgres.js"

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

const recorded = (keyId: string) =>
  new UsageEvents.UsageRecorded({
    keyId: ApiKeyId.make(keyId),
    userId: UserId.make("u1"),
    date: UtcDate.make("2026-11-29"),
    model: "m",
    totals: { requests: 1, tokensInput: 1, tokensOutput: 1, cost: 1 as Micros, byokCost: 0 as Micros },
    at: DateTime.unsafeMake(NOW)
  })

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

/**
 * Sampled sequences of usage commands, run as the server runs them (A: after each key's first command, every
 * stream is current in the cache, the fast path) and each inside a caller's transaction (B: every stream
 * read, the full path): the same events at the same versions, the same usage rows, the same rejections.
 */
const fastMatchesFull = (
  fresh: Effect.Effect<Context.Context<Services>, unknown, Scope.Scope>,
  path: Metrics.CommitPath,
  numRuns: number
) =>
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
    let accepted = 0
    const before = yield* Metrics.committedOn(path)

    const samples = fc.sample(fc.array(command, { minLength: 5, maxLength: 40 }), { numRuns, seed: 20261202 })
    for (const commands of samples) {
      const a = yield* fresh
      const b = yield* fresh
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
        } else if (Either.isRight(fast) && fast.right.length > 0) accepted++
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
    // And the fast path is what committed A's usage (all but each key's first command of a sample, at most).
    expect((yield* Metrics.committedOn(path)) - before).toBeGreaterThanOrEqual(accepted - 2 * numRuns)
  })

/** An instance's core on `database` (each call another instance on the same database). */
const instanceOn = (database: Database) =>
  Layer.build(Core.layerDatabase(database)) as Effect.Effect<Context.Context<Services>, never, Scope.Scope>

const freshPg = Effect.flatMap(
  Effect.promise(() => freshDatabase()),
  ({ database }) => instanceOn(database)
)

describe("the fast path of planned commands", () => {
  it.scoped("decides what the full path decides, events and read tables alike, spikes and rejections included", () =>
    fastMatchesFull(
      Effect.suspend(() => Layer.build(Core.layerFile(tempFile()))),
      "synchronous",
      12
    )
  )

  it.scoped("on PostgreSQL, decides what the full path decides (the pipelined batch)", () =>
    fastMatchesFull(freshPg, "pipelined", 4)
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

/**
 * A batch of four (a commit, a step that fails after writing, a lost race on the first one's stream, a commit)
 * answered as such; the versions of their streams a, b and c, to check.
 */
const expectOneOfEach = (
  exits: ReadonlyArray<Exit.Exit<ReadonlyArray<unknown>, unknown>>,
  store: EventStore,
  ctx: Context.Context<never>
) => {
  expect(exits.map((exit) => (Exit.isSuccess(exit) ? "committed" : Exit.isInterrupted(exit) ? "?" : "failed"))).toEqual(
    ["committed", "failed", "failed", "committed"]
  )
  const [, thrown, lost] = exits
  expect(Exit.isFailure(thrown!) && thrown.cause._tag).toBe("Die")
  expect(Exit.isFailure(lost!) && lost.cause._tag === "Fail" && lost.cause.error).toBeInstanceOf(ConcurrencyConflict)
  return Effect.provide(
    Effect.all(["a", "b", "c"].map((k) => Effect.map(store.readStream(Streams.usage(k)), (r) => r.version))),
    ctx
  )
}

/** The distinct positions of the built projections' checkpoints. */
const checkpointsOf = (ctx: Context.Context<SqlClient.SqlClient>) =>
  Effect.provide(
    Effect.map(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ position: number }>`SELECT DISTINCT position FROM projection_checkpoints WHERE version <> 0`
      ),
      (rows) => rows.map((row) => Number(row.position))
    ),
    ctx
  )

describe("a group commit batch of synchronous steps", () => {
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
      const versions = expectOneOfEach(exits, store, ctx)
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

describe("the fast path on PostgreSQL, with another instance on the same database", () => {
  const usageOf = (ctx: Context.Context<Services>, keyId: string) =>
    Effect.provide(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{
          cost: number
          requests: number
        }>`SELECT SUM(cost_micros) AS cost, SUM(requests_count) AS requests
          FROM usage_stats WHERE api_key_id = ${keyId}`
      ),
      ctx
    )

  it.scoped("a state this instance holds that another moved loses at the append, and is decided again as read", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake(NOW)))
      const { database } = yield* Effect.promise(() => freshDatabase())
      const one = yield* instanceOn(database)
      yield* setUp(one)
      const two = yield* instanceOn(database)
      const before = yield* Metrics.committedOn("pipelined")
      // Instance one holds k1 and k2 in its cache (setUp's budgets read their usage): each takes the fast path.
      for (const c of [usage("k1", "2026-11-29", 100), usage("k2", "2026-11-29", 10), usage("k1", "2026-11-29", 200)]) {
        expect(Either.isRight(yield* dispatchOn(one, c))).toBe(true)
      }
      expect((yield* Metrics.committedOn("pipelined")) - before).toBe(3)
      // Instance two records on k1 and deletes k2: instance one's states of both are now behind.
      expect(Either.isRight(yield* dispatchOn(two, usage("k1", "2026-11-29", 400)))).toBe(true)
      const deleted = new ApiKeyCommands.DeleteKey({
        keyId: ApiKeyId.make("k2"),
        userId: UserId.make("u1"),
        at: DateTime.unsafeMake(NOW)
      })
      expect(Either.isRight(yield* dispatchOn(two, deleted))).toBe(true)
      // Usage on the deleted k2 through instance one: its stale key state fails the append's guard on the key's
      // stream (its usage stream did not move), and the command is refused as the full path refuses it.
      const refused = yield* dispatchOn(one, usage("k2", "2026-11-29", 20))
      expect(Either.isLeft(refused) && refused.left._tag).toBe("KeyNotFound")
      const k2 = yield* Effect.provide(
        Effect.flatMap(EventStore, (store) => store.readStream(Streams.usage("k2"))),
        one
      )
      expect(k2.version).toBe(1)
      // Usage on k1 through instance one: decided on its stale state, refused at the append, decided again.
      const again = yield* dispatchOn(one, usage("k1", "2026-11-29", 800))
      expect(Either.isRight(again) && again.right.map((e) => e.streamVersion)).toEqual([4])
      expect(yield* usageOf(one, "k1")).toEqual([{ cost: 1500, requests: 4 }])
      // And the stale state is not tried twice: the race lost, k1's next command reads and is fast again after.
      expect(Either.isRight(yield* dispatchOn(one, usage("k1", "2026-11-29", 1600)))).toBe(true)
      expect(yield* usageOf(two, "k1")).toEqual([{ cost: 3100, requests: 5 }])
    })
  )

  it.scoped("commands at once on one key wait for each other's commit instead of losing races at the append", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(DateTime.toEpochMillis(DateTime.unsafeMake(NOW)))
      const { database } = yield* Effect.promise(() => freshDatabase())
      const ctx = yield* instanceOn(database)
      yield* setUp(ctx)
      const before = {
        pipelined: yield* Metrics.committedOn("pipelined"),
        client: yield* Metrics.committedOn("client")
      }
      const answers = yield* Effect.all(
        Array.from({ length: 6 }, (_, i) => dispatchOn(ctx, usage("k1", "2026-11-29", 10 + i))),
        { concurrency: "unbounded" }
      )
      const versions = answers.flatMap((answer) =>
        Either.isRight(answer) ? answer.right.map((e) => e.streamVersion) : []
      )
      expect([...versions].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6])
      // Every one on the fast path: none lost a race and went the full path.
      expect((yield* Metrics.committedOn("pipelined")) - before.pipelined).toBe(6)
      expect((yield* Metrics.committedOn("client")) - before.client).toBe(0)
      expect(yield* usageOf(ctx, "k1")).toEqual([{ cost: 75, requests: 6 }])
      // On an instance that holds nothing yet: the first is decided on what it reads, the others wait for it.
      const cold = yield* instanceOn(database)
      const then = { pipelined: yield* Metrics.committedOn("pipelined"), client: yield* Metrics.committedOn("client") }
      const more = yield* Effect.all(
        Array.from({ length: 6 }, () => dispatchOn(cold, usage("k1", "2026-11-29", 100))),
        { concurrency: "unbounded" }
      )
      expect(
        more.flatMap((a) => (Either.isRight(a) ? a.right.map((e) => e.streamVersion) : [])).sort((x, y) => x - y)
      ).toEqual([7, 8, 9, 10, 11, 12])
      expect((yield* Metrics.committedOn("client")) - then.client).toBe(1)
      expect((yield* Metrics.committedOn("pipelined")) - then.pipelined).toBe(5)
    })
  )

  it.scoped(
    "a pipelined batch keeps each command's failure to itself: a lost race, a failed write, the others commit",
    () =>
      Effect.gen(function* () {
        const { database } = yield* Effect.promise(() => freshDatabase())
        const ctx = yield* Layer.build(GroupCommit.Default.pipe(Layer.provideMerge(Core.layerDatabase(database))))
        const store = yield* Effect.provide(EventStore, ctx)
        const group = yield* Effect.provide(GroupCommit, ctx)
        const { appendPlanPg } = store
        const { commitPipelined } = group
        if (appendPlanPg === undefined || commitPipelined === undefined) {
          return yield* Effect.dieMessage("the PostgreSQL store and group commit pipeline")
        }
        const job = (
          keyId: string,
          expectedVersion: number,
          after: ReadonlyArray<{ text: string; params: [] }> = []
        ) => {
          const append = appendPlanPg(
            [{ streamId: Streams.usage(keyId), expectedVersion, events: [recorded(keyId)] }],
            testMetadata(),
            [],
            NOW
          )
          return commitPipelined({ _tag: "Pipelined", append: append.statement, after, outcome: append.outcome })
        }
        const exits = yield* Effect.all(
          [job("a", 0), job("c", 0, [{ text: "SELECT 1 / 0", params: [] }]), job("a", 0), job("b", 0)].map(Effect.exit),
          { concurrency: "unbounded" }
        )
        const versions = expectOneOfEach(exits, store, ctx)
        // The failed write's append (stream c) was rolled back with it; the checkpoints are at the head.
        expect(yield* versions).toEqual([1, 1, 0])
        expect(yield* checkpointsOf(ctx)).toEqual([yield* Effect.provide(store.head, ctx)])
        expect(Exit.isSuccess(yield* Effect.exit(job("c", 0)))).toBe(true)
        expect(yield* versions).toEqual([1, 1, 1])
        // Many at once, batches sent behind batches that fail: every job answered once, as its own statements
        // decide; the log holds exactly the committed ones, in the positions they were answered with.
        const many = yield* Effect.all(
          Array.from({ length: 60 }, (_, i) =>
            Effect.exit(
              i % 7 === 3
                ? job(`m${i}`, 0, [{ text: "SELECT 1 / 0", params: [] }])
                : i % 5 === 1
                  ? job("a", 0)
                  : job(`m${i}`, 0)
            )
          ),
          { concurrency: "unbounded" }
        )
        const committed = many.flatMap((exit, i) =>
          Exit.isSuccess(exit) ? [{ i, positions: exit.value.map((e) => e.position) }] : []
        )
        expect(committed.map(({ i }) => i)).toEqual(
          Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 7 !== 3 && i % 5 !== 1)
        )
        const logged = yield* Effect.provide(
          Effect.flatMap(
            SqlClient.SqlClient,
            (sql) => sql<{ stream_id: string; position: number }>`SELECT stream_id, position FROM events
              WHERE stream_id LIKE 'usage-m%' ORDER BY position`
          ),
          ctx
        )
        expect(logged.map((row) => Number(row.position)).sort((x, y) => x - y)).toEqual(
          committed.flatMap(({ positions }) => positions).sort((x, y) => x - y)
        )
        expect(yield* checkpointsOf(ctx)).toEqual([yield* Effect.provide(store.head, ctx)])
      })
  )
})
