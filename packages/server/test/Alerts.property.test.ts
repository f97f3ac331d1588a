import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import {
  ApiKeyId,
  BudgetCommands,
  BudgetId,
  decideUsage,
  evolveApiKey,
  evolveUsage,
  initialApiKeyState,
  initialUsageState,
  reaches,
  Streams,
  UsageCommands,
  UserId,
  utcDateOf
} from "@orw/domain"
import { DateTime, Effect, Either, Layer, ManagedRuntime } from "effect"
import fc from "fast-check"
import { CommandHandler } from "../src/CommandHandler.js"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import { Projector } from "../src/Projector.js"
import { AlertWatch } from "../src/Webhooks/AlertWatch.js"
import { addKey, register, testMetadata } from "./support/Fixtures.js"

const userId = UserId.make("u-prop")
const keys = [ApiKeyId.make("k-a"), ApiKeyId.make("k-b")]
const metadata = testMetadata()

/** The budgets of the property: an account daily one and a key monthly one, thresholds of both kinds. */
const budgets = [
  {
    id: BudgetId.make("b-account"),
    scope: "account" as const,
    keyId: null,
    amount: 10_000_000,
    period: "daily" as const,
    thresholds: [50, 80, 100, 150]
  },
  {
    id: BudgetId.make("b-key"),
    scope: "key" as const,
    keyId: keys[0]!,
    amount: 4_000_000,
    period: "monthly" as const,
    thresholds: [25, 100]
  }
]

/** One "process" over the database file: the core and the alert catch-up that the server runs at start. */
const processOn = (file: string) =>
  ManagedRuntime.make(AlertWatch.Default.pipe(Layer.provideMerge(Core.layerFile(file))))

type Op =
  | { readonly _tag: "record"; readonly key: number; readonly model: string; readonly cost: number }
  | { readonly _tag: "recordThenCrash"; readonly key: number; readonly model: string; readonly cost: number }
  | { readonly _tag: "rebuild" }
  | { readonly _tag: "restart" }

const cost = fc.integer({ min: 0, max: 3_000_000 })
// Per-model rows only: an `unattributed` row superseded later can lower a day's spend, and a threshold that
// fired on the higher figure rightly stays fired (the supersede rule itself is the decider tests' subject).
const model = fc.constantFrom("m1", "m2")
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ _tag: fc.constant("record" as const), key: fc.nat(1), model, cost }) },
  { weight: 2, arbitrary: fc.record({ _tag: fc.constant("recordThenCrash" as const), key: fc.nat(1), model, cost }) },
  { weight: 1, arbitrary: fc.constant({ _tag: "rebuild" as const }) },
  { weight: 1, arbitrary: fc.constant({ _tag: "restart" as const }) }
)

const usageCommand = (keyId: ApiKeyId, m: string, c: number, at: DateTime.Utc) =>
  new UsageCommands.RecordUsage({
    keyId,
    date: utcDateOf(at),
    model: m,
    mode: "increment",
    figures: { requests: 1, tokensInput: 1, tokensOutput: 1, cost: c, byokCost: 0 },
    at
  })

/**
 * A process that appends usage and dies before deciding the budgets: the usage decider and the append,
 * without the Dispatcher's follow-up.
 */
const appendOnly = (command: UsageCommands.RecordUsage) =>
  Effect.flatMap(CommandHandler, (handler) =>
    handler.execute(
      (load) =>
        Effect.map(
          Effect.all({
            key: load(Streams.key(command.keyId), initialApiKeyState, evolveApiKey),
            usage: load(Streams.usage(command.keyId), initialUsageState, evolveUsage)
          }),
          (ctx) => {
            const events = Either.getOrThrow(decideUsage(command, ctx))
            return { events, result: events }
          }
        ),
      { metadata }
    )
  )

const crossings = Effect.gen(function* () {
  const store = yield* EventStore
  const all = yield* store.readAll(0, 1_000_000)
  return all.flatMap(({ event }) =>
    event._tag === "BudgetThresholdCrossed" ? [`${event.budgetId}|${event.threshold}|${event.periodStart}`] : []
  )
})

describe("alerts fire exactly once per (budget, threshold, period)", () => {
  it.live(
    "random usage, crashes before deciding, rebuilds and restarts: one alert per threshold the final usage reached",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 15 }), async (ops) => {
            const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-alerts-"))
            const file = NodePath.join(dir, "app.db")
            let runtime = processOn(file)
            try {
              const setupAt = await runtime.runPromise(DateTime.now)
              await runtime.runPromise(
                Effect.gen(function* () {
                  const dispatcher = yield* Dispatcher
                  yield* dispatcher.dispatch(register(userId, "prop@example.com"), { metadata })
                  for (const keyId of keys) yield* dispatcher.dispatch(addKey(keyId, userId), { metadata })
                  for (const b of budgets) {
                    yield* dispatcher.dispatch(
                      new BudgetCommands.CreateBudget({
                        budgetId: b.id,
                        userId,
                        scope: b.scope,
                        keyId: b.keyId,
                        amount: b.amount,
                        period: b.period,
                        thresholds: b.thresholds,
                        at: setupAt
                      }),
                      { metadata }
                    )
                  }
                })
              )
              const totals = new Map<string, number>()
              for (const o of ops) {
                if (o._tag === "rebuild") await runtime.runPromise(Effect.flatMap(Projector, (p) => p.rebuild()))
                else if (o._tag === "restart") {
                  await runtime.dispose()
                  runtime = processOn(file)
                  await runtime.runPromise(Effect.flatMap(AlertWatch, (w) => w.catchUp))
                } else {
                  const keyId = keys[o.key]!
                  const at = await runtime.runPromise(DateTime.now)
                  const command = usageCommand(keyId, o.model, o.cost, at)
                  if (o._tag === "record") {
                    await runtime.runPromise(Effect.flatMap(Dispatcher, (d) => d.dispatch(command, { metadata })))
                  } else await runtime.runPromise(appendOnly(command))
                  totals.set(`${keyId}|${o.model}`, (totals.get(`${keyId}|${o.model}`) ?? 0) + o.cost)
                }
              }
              // The server's start: a restart decides what a crash left undecided.
              await runtime.dispose()
              runtime = processOn(file)
              await runtime.runPromise(Effect.flatMap(AlertWatch, (w) => w.catchUp))
              const fired = await runtime.runPromise(crossings)

              const spentOf = (keyId: string) => (totals.get(`${keyId}|m1`) ?? 0) + (totals.get(`${keyId}|m2`) ?? 0)
              const expected: Array<string> = []
              const today = utcDateOf(setupAt)
              for (const b of budgets) {
                const spent = b.keyId === null ? keys.map(spentOf).reduce((a, c) => a + c, 0) : spentOf(b.keyId)
                const periodStart = b.period === "daily" ? today : `${today.slice(0, 8)}01`
                for (const t of b.thresholds)
                  if (reaches(spent, b.amount, t)) expected.push(`${b.id}|${t}|${periodStart}`)
              }
              expect([...fired].sort()).toEqual(expected.sort())
            } finally {
              await runtime.dispose()
              NodeFs.rmSync(dir, { recursive: true, force: true })
            }
          }),
          { numRuns: 12 }
        )
      ),
    240_000
  )

  it.live("many concurrent usage recordings crossing the same threshold: one alert each", () =>
    Effect.gen(function* () {
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-alerts-race-"))
      const runtime = processOn(NodePath.join(dir, "app.db"))
      const at = yield* DateTime.now
      yield* Effect.promise(() =>
        runtime.runPromise(
          Effect.gen(function* () {
            const dispatcher = yield* Dispatcher
            yield* dispatcher.dispatch(register(userId, "race@example.com"), { metadata })
            yield* dispatcher.dispatch(addKey(keys[0]!, userId), { metadata })
            yield* dispatcher.dispatch(
              new BudgetCommands.CreateBudget({
                budgetId: BudgetId.make("b-race"),
                userId,
                scope: "account",
                keyId: null,
                amount: 1_000_000,
                period: "daily",
                thresholds: [50, 100],
                at
              }),
              { metadata }
            )
            // 40 recordings of 5 cents at once: together $2, so 50 % and 100 % of $1 are each crossed by many.
            yield* Effect.all(
              Array.from({ length: 40 }, (_, i) =>
                dispatcher.dispatch(usageCommand(keys[0]!, `model-${i % 4}`, 50_000, at), { metadata })
              ),
              { concurrency: "unbounded", discard: true }
            )
            yield* Effect.flatMap(AlertWatch, (w) => w.catchUp)
            const fired = yield* crossings
            expect(fired.sort()).toEqual([`b-race|100|${utcDateOf(at)}`, `b-race|50|${utcDateOf(at)}`])
          })
        )
      )
      yield* Effect.promise(() => runtime.dispose())
      NodeFs.rmSync(dir, { recursive: true, force: true })
    })
  )
})
