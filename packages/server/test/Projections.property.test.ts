import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import {
  ApiKeyCommands,
  ApiKeyId,
  ApiTokenCommands,
  ApiTokenId,
  type DomainCommand,
  type Micros,
  SyncCommands,
  UsageCommands,
  UserCommands,
  UserId,
  UtcDate
} from "@orw/domain"
import { DateTime, Effect } from "effect"
import fc from "fast-check"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { Projector } from "../src/Projector.js"
import { addKey, issueToken, register, testMetadata } from "./support/Fixtures.js"

const users = ["u0", "u1"]
const keys = ["k0", "k1", "k2"]
const tokens = ["t0", "t1", "t2"]
const user = fc.constantFrom(...users)
const key = fc.constantFrom(...keys)
const token = fc.constantFrom(...tokens)
const when = fc.integer({ min: 0, max: 10_000 }).map((s) => DateTime.unsafeMake(Date.UTC(2026, 10, 1) + s * 60_000))
const micros = fc.integer({ min: 0, max: 5_000_000 }).map((n) => n as Micros)

const status = fc.record({
  label: fc.constantFrom("sk-or-v1-abc...def", "sk-or-v1-123...456"),
  limit: fc.option(micros, { nil: null }),
  limitRemaining: fc.option(micros, { nil: null }),
  limitReset: fc.option(fc.constantFrom("daily", "monthly"), { nil: null }),
  usage: micros,
  usageDaily: micros,
  usageWeekly: micros,
  usageMonthly: micros,
  isManagementKey: fc.boolean(),
  expiresAt: fc.constant(null)
})

/** Any command, on a small id space so that commands collide, conflict and get rejected. */
const command: fc.Arbitrary<DomainCommand> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(user, fc.constantFrom("a@x.io", "b@x.io", "c@x.io")).map(([u, e]) => register(u, e))
  },
  fc
    .tuple(user, when)
    .map(([u, at]) => new UserCommands.ChangePassword({ userId: UserId.make(u), passwordHash: "h2", at })),
  fc.tuple(user, when).map(([u, at]) => new UserCommands.DeleteUser({ userId: UserId.make(u), at })),
  {
    weight: 6,
    arbitrary: fc.tuple(key, user, fc.integer({ min: 1, max: 3 })).map(([k, u, max]) => addKey(k, u, { max }))
  },
  {
    weight: 2,
    // A name, an activity or both: every shape of PUT /api/keys/{id}.
    arbitrary: fc
      .tuple(
        key,
        user,
        fc.record({ name: fc.constantFrom("prod", "dev"), isActive: fc.boolean() }, { requiredKeys: [] }),
        when
      )
      .map(
        ([k, u, fields, at]) =>
          new ApiKeyCommands.EditKey({ keyId: ApiKeyId.make(k), userId: UserId.make(u), ...fields, at })
      )
  },
  fc
    .tuple(key, user, when)
    .map(([k, u, at]) => new ApiKeyCommands.DeleteKey({ keyId: ApiKeyId.make(k), userId: UserId.make(u), at })),
  {
    weight: 2,
    arbitrary: fc.tuple(key, status, when).map(
      ([k, s, at]) =>
        new SyncCommands.RecordKeySnapshot({
          keyId: ApiKeyId.make(k),
          status: s,
          at,
          day: UtcDate.make(DateTime.formatIsoDateUtc(at))
        })
    )
  },
  fc.tuple(key, when).map(([k, at]) => new ApiKeyCommands.MarkKeyInvalid({ keyId: ApiKeyId.make(k), at })),
  fc
    .tuple(key, when)
    .map(([k, at]) => new ApiKeyCommands.RecordSyncFailure({ keyId: ApiKeyId.make(k), error: "503", at })),
  fc
    .tuple(
      key,
      fc.constantFrom("2026-11-01", "2026-11-02"),
      fc.constantFrom("unattributed", "openai/gpt-4.1", "anthropic/claude"),
      fc.constantFrom("absolute" as const, "increment" as const),
      fc.record({
        requests: fc.nat(50),
        tokensInput: fc.nat(5000),
        tokensOutput: fc.nat(5000),
        cost: fc.nat(1_000_000),
        byokCost: fc.nat(1000)
      }),
      when
    )
    .map(
      ([k, date, model, mode, figures, at]) =>
        new UsageCommands.RecordUsage({ keyId: ApiKeyId.make(k), date: UtcDate.make(date), model, mode, figures, at })
    ),
  fc
    .tuple(
      key,
      fc.array(
        fc.record({
          date: fc.constantFrom("2026-11-01", "2026-11-02").map((d) => UtcDate.make(d)),
          model: fc.constantFrom("openai/gpt-4.1", "anthropic/claude"),
          requests: fc.nat(50),
          tokensInput: fc.nat(5000),
          tokensOutput: fc.nat(5000),
          cost: fc.nat(1_000_000),
          byokCost: fc.nat(1000)
        }),
        { maxLength: 4 }
      ),
      when
    )
    .map(([k, totals, at]) => new SyncCommands.RecordActivity({ keyId: ApiKeyId.make(k), totals, at })),
  fc.tuple(token, user).map(([t, u]) => issueToken(t, u)),
  fc
    .tuple(token, user, when)
    .map(([t, u, at]) => new ApiTokenCommands.RevokeToken({ tokenId: ApiTokenId.make(t), userId: UserId.make(u), at }))
)

const snapshot = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return {
    users: yield* sql`SELECT * FROM users ORDER BY id`,
    api_keys: yield* sql`SELECT * FROM api_keys ORDER BY id`,
    usage_stats: yield* sql`SELECT * FROM usage_stats ORDER BY api_key_id, date, model`,
    api_tokens: yield* sql`SELECT * FROM api_tokens ORDER BY id`
  }
})

it.effect("read tables built incrementally equal the tables of a full rebuild, row for row", () =>
  Effect.gen(function* () {
    // Which events the random runs produced: the property must not hold vacuously.
    const produced = new Set<string>()
    let nonEmptyTables = 0
    yield* Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 80, size: "max" }), async (commands) => {
          const { incremental, rebuilt } = await Effect.runPromise(
            Effect.gen(function* () {
              const dispatcher = yield* Dispatcher
              for (const cmd of commands) {
                const outcome = yield* Effect.either(dispatcher.dispatch(cmd, { metadata: testMetadata() }))
                if (outcome._tag === "Right") for (const e of outcome.right) produced.add(e.type)
              }
              const incremental = yield* snapshot
              yield* Effect.flatMap(Projector, (p) => p.rebuild())
              return { incremental, rebuilt: yield* snapshot }
            }).pipe(Effect.provide(Core.layerFile(":memory:")))
          )
          if (incremental.api_keys.length > 0 && incremental.usage_stats.length > 0) nonEmptyTables++
          expect(rebuilt).toEqual(incremental)
        }),
        { numRuns: 60 }
      )
    )
    for (const type of [
      "UserRegistered",
      "KeyAdded",
      "KeyStatusRecorded",
      "UsageRecorded",
      "TokenIssued",
      "TokenRevoked",
      "KeyDeleted",
      "UserDeleted",
      "KeyRenamed"
    ]) {
      expect([...produced]).toContain(type)
    }
    expect(nonEmptyTables).toBeGreaterThan(5)
  })
)
