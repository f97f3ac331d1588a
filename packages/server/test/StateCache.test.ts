import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeyId, type Micros, Streams, UsageCommands, type UsageEvents, UtcDate } from "@orw/domain"
import { type Context, Effect, Either, Layer } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { EventStore } from "../src/EventStore.js"
import { addKey, at, register, testMetadata } from "./support/Fixtures.js"

const tempFile = () => NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-cache-")), "app.db")

const record = (cost: number) =>
  new UsageCommands.RecordUsage({
    keyId: ApiKeyId.make("k1"),
    date: UtcDate.make("2026-11-29"),
    model: "m",
    mode: "absolute",
    figures: { requests: 1, tokensInput: 1, tokensOutput: 1, cost: cost as Micros, byokCost: 0 },
    at: at()
  })

type Services = Dispatcher | EventStore | SqlClient.SqlClient

const on = <A, E>(ctx: Context.Context<Services>, effect: Effect.Effect<A, E, Services>) => Effect.provide(effect, ctx)
const dispatch = (ctx: Context.Context<Services>, command: UsageCommands.RecordUsage) =>
  on(
    ctx,
    Effect.flatMap(Dispatcher, (d) => d.dispatch(command, { metadata: testMetadata() }))
  )
const lastCost = (ctx: Context.Context<Services>) =>
  on(
    ctx,
    Effect.map(
      Effect.flatMap(EventStore, (store) => store.readStream(Streams.usage("k1"))),
      (read) => {
        const last = read.events.at(-1)?.event as UsageEvents.UsageRecorded | undefined
        return last?.totals.cost
      }
    )
  )

/** User u1 with key k1, through the dispatcher of `ctx`. */
const userWithKey = (ctx: Context.Context<Services>) =>
  on(
    ctx,
    Effect.flatMap(Dispatcher, (d) =>
      Effect.zipRight(
        d.dispatch(register("u1", "u1@example.com"), { metadata: testMetadata() }),
        d.dispatch(addKey("k1", "u1"), { metadata: testMetadata() })
      )
    )
  )

describe("the command handler's state cache on SQLite", () => {
  it.scoped(
    "a decision after another connection's commit decides on it, even one that appends nothing without it",
    () =>
      Effect.gen(function* () {
        const file = tempFile()
        const a = yield* Layer.build(Core.layerFile(file))
        const b = yield* Layer.build(Core.layerFile(file))
        yield* userWithKey(a)
        // A's cache now holds the key's usage at cost 5, current as far as A knows.
        expect((yield* dispatch(a, record(5))).length).toBe(1)
        // B (another connection, as another process would be) sets the day's totals to 7.
        expect((yield* dispatch(b, record(7))).length).toBe(1)
        // On A's stale state (5), setting 5 again would be "unchanged" and append nothing: A must see B's 7.
        const again = yield* dispatch(a, record(5))
        expect(again.length).toBe(1)
        expect(yield* lastCost(b)).toBe(5)
        // And with nothing committed elsewhere, the same command is unchanged: nothing appended.
        expect((yield* dispatch(a, record(5))).length).toBe(0)
      })
  )

  it.scoped("a command that lost a race in its own process decides again on what the winner committed", () =>
    Effect.gen(function* () {
      const ctx = yield* Layer.build(Core.layerFile(tempFile()))
      yield* userWithKey(ctx)
      yield* dispatch(ctx, record(1))
      // Eight increments at once on one stream: they decide on the same version and commit in one batch, so all
      // but one lose the race there and retry; every increment must count once.
      const increment = new UsageCommands.RecordUsage({ ...record(0), mode: "increment", figures: record(10).figures })
      const results = yield* Effect.all(
        Array.from({ length: 8 }, () => Effect.either(dispatch(ctx, increment))),
        { concurrency: "unbounded" }
      )
      expect(results.every(Either.isRight)).toBe(true)
      expect(yield* lastCost(ctx)).toBe(1 + 8 * 10)
      const versions = yield* on(
        ctx,
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ version: number }>`SELECT version FROM streams
          WHERE stream_id = ${Streams.usage("k1")}`
        )
      )
      expect(Number(versions[0]?.version)).toBe(9)
    })
  )

  it.scoped("what a decision read inside a transaction that rolled back is not taken for the stream's state", () =>
    Effect.gen(function* () {
      const ctx = yield* Layer.build(Core.layerFile(tempFile()))
      yield* userWithKey(ctx)
      yield* dispatch(ctx, record(5))
      // Inside a transaction: 7 is written, then 7 again decides nothing (it reads the uncommitted 7); rolled back.
      const inside = yield* on(
        ctx,
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          Effect.either(
            sql.withTransaction(
              Effect.gen(function* () {
                expect((yield* dispatch(ctx, record(7))).length).toBe(1)
                expect((yield* dispatch(ctx, record(7))).length).toBe(0)
                return yield* Effect.fail("roll back")
              })
            )
          )
        )
      )
      expect(Either.isLeft(inside)).toBe(true)
      expect(yield* lastCost(ctx)).toBe(5)
      // The stream is at 5: setting 7 appends.
      expect((yield* dispatch(ctx, record(7))).length).toBe(1)
      expect(yield* lastCost(ctx)).toBe(7)
    })
  )
})
