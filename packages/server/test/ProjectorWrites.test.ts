import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import {
  ApiKeyEvents,
  ApiTokenEvents,
  BudgetEvents,
  type DomainEvent,
  ReconciliationEvents,
  streamOf,
  UsageEvents,
  UserEvents,
  WebhookEvents
} from "@orw/domain"
import { DateTime, Effect } from "effect"
import * as Core from "../src/Core.js"
import { EventStore } from "../src/EventStore.js"
import { allProjections } from "../src/Projections/index.js"
import { Projector } from "../src/Projector.js"
import { testMetadata } from "./support/Fixtures.js"
import { freshDatabase, onPostgres } from "./support/Postgres.js"

/* Every event type a projection writes, for two users: the second one's rows are all deleted again. */
let minute = 0
const at = () => DateTime.unsafeMake(Date.UTC(2026, 10, 1, 8) + minute++ * 60_000)
const ids = { userId: "u1", keyId: "k1" } as never as { userId: never; keyId: never }
const u2 = { userId: "u2", keyId: "k2" } as never as { userId: never; keyId: never }
const day = "2026-11-01" as never
const usage = (who: typeof ids, model: string, requests: number) =>
  new UsageEvents.UsageRecorded({
    ...who,
    date: day,
    model,
    totals: {
      requests,
      tokensInput: requests * 10,
      tokensOutput: requests * 3,
      cost: requests * 7,
      byokCost: 1
    } as never,
    at: at()
  })
const script = (): ReadonlyArray<DomainEvent> => [
  new UserEvents.UserRegistered({ userId: ids.userId, email: "a@x.io", passwordHash: "h1", at: at() }),
  new UserEvents.UserRegistered({ userId: u2.userId, email: "b@x.io", passwordHash: "h2", at: at() }),
  new UserEvents.PasswordChanged({ userId: ids.userId, passwordHash: "h1b", at: at() }),
  new ApiKeyEvents.KeyAdded({
    ...ids,
    name: "prod",
    label: "sk-or-v1-a...b",
    keyHash: "kh1",
    ciphertext: "c1",
    at: at()
  }),
  new UserEvents.KeyAttached({ ...ids, keyHash: "kh1", at: at() }),
  new ApiKeyEvents.KeyAdded({
    ...u2,
    name: "dev",
    label: "sk-or-v1-c...d",
    keyHash: "kh2",
    ciphertext: "c2",
    at: at()
  }),
  new UserEvents.KeyAttached({ ...u2, at: at() }),
  new ApiKeyEvents.KeyRenamed({ ...ids, name: "production", at: at() }),
  new ApiKeyEvents.KeyActiveSet({ ...ids, isActive: false, at: at() }),
  new ApiKeyEvents.KeyActiveSet({ ...ids, isActive: true, at: at() }),
  new ApiKeyEvents.KeyStatusRecorded({
    ...ids,
    status: {
      label: "sk-or-v1-a...b",
      limit: 5_000_000 as never,
      limitRemaining: 4_000_000 as never,
      limitReset: "monthly",
      usage: 1_000_000 as never,
      usageDaily: 10 as never,
      usageWeekly: 20 as never,
      usageMonthly: 30 as never,
      isManagementKey: true,
      expiresAt: null
    },
    at: at()
  }),
  new ApiKeyEvents.KeyMarkedInvalid({ ...ids, at: at() }),
  new ApiKeyEvents.KeySyncFailed({ ...ids, error: "503 from upstream", at: at() }),
  new ApiKeyEvents.KeyLimitSet({ ...ids, limit: 9_000_000 as never, limitReset: "weekly", at: at() }),
  usage(ids, "openai/gpt-4.1", 3),
  usage(ids, "openai/gpt-4.1", 5),
  usage(ids, "unattributed", 2),
  usage(u2, "anthropic/claude", 4),
  new ApiTokenEvents.TokenIssued({
    tokenId: "t1" as never,
    userId: ids.userId,
    name: "ci",
    tokenHash: "th1",
    at: at()
  }),
  new ApiTokenEvents.TokenIssued({
    tokenId: "t2" as never,
    userId: ids.userId,
    name: "old",
    tokenHash: "th2",
    at: at()
  }),
  new ApiTokenEvents.TokenRevoked({ tokenId: "t2" as never, userId: ids.userId, at: at() }),
  new ApiTokenEvents.TokenIssued({ tokenId: "t3" as never, userId: u2.userId, name: "x", tokenHash: "th3", at: at() }),
  ...(["b1", "b2", "b3"] as const).map(
    (budgetId, i) =>
      new BudgetEvents.BudgetCreated({
        budgetId: budgetId as never,
        userId: i === 2 ? u2.userId : ids.userId,
        scope: i === 0 ? "account" : "key",
        keyId: i === 0 ? null : i === 1 ? ids.keyId : u2.keyId,
        amount: 10_000_000 as never,
        period: "monthly",
        thresholds: [50, 80, 100],
        at: at()
      })
  ),
  new BudgetEvents.BudgetChanged({
    budgetId: "b1" as never,
    userId: ids.userId,
    amount: 20_000_000 as never,
    thresholds: [90],
    periodStart: day,
    rearmed: [],
    forecastRearmed: false,
    at: at()
  }),
  new BudgetEvents.BudgetThresholdCrossed({
    alertId: "a1" as never,
    budgetId: "b1" as never,
    userId: ids.userId,
    keyId: null,
    threshold: 90,
    amount: 20_000_000 as never,
    spent: 18_000_001 as never,
    period: "monthly",
    periodStart: day,
    at: at()
  }),
  new BudgetEvents.BudgetForecastExceeded({
    alertId: "a2" as never,
    budgetId: "b1" as never,
    userId: ids.userId,
    keyId: null,
    amount: 20_000_000 as never,
    spent: 1_000 as never,
    projected: 30_000_000 as never,
    period: "monthly",
    periodStart: day,
    at: at()
  }),
  new BudgetEvents.KeySpendSpiked({
    alertId: "a3" as never,
    ...ids,
    date: day,
    spent: 900 as never,
    average: 100 as never,
    factor: 3.5,
    at: at()
  }),
  new BudgetEvents.BudgetThresholdCrossed({
    alertId: "a4" as never,
    budgetId: "b3" as never,
    userId: u2.userId,
    keyId: u2.keyId,
    threshold: 50,
    amount: 10_000_000 as never,
    spent: 6_000_000 as never,
    period: "monthly",
    periodStart: day,
    at: at()
  }),
  new BudgetEvents.BudgetDeleted({ budgetId: "b2" as never, userId: ids.userId, at: at() }),
  new WebhookEvents.WebhookAdded({
    webhookId: "w1" as never,
    userId: ids.userId,
    url: "https://example.com/hook",
    format: "slack",
    ciphertext: "wc1",
    at: at()
  }),
  new WebhookEvents.WebhookAdded({
    webhookId: "w2" as never,
    userId: ids.userId,
    url: "https://example.com/2",
    format: "generic",
    ciphertext: "wc2",
    at: at()
  }),
  new WebhookEvents.WebhookDeleted({ webhookId: "w2" as never, userId: ids.userId, at: at() }),
  new WebhookEvents.WebhookAdded({
    webhookId: "w3" as never,
    userId: u2.userId,
    url: "https://example.com/3",
    format: "discord",
    ciphertext: "wc3",
    at: at()
  }),
  new ReconciliationEvents.UsageDiscrepancyFound({
    ...ids,
    scope: "day",
    date: day,
    model: "openai/gpt-4.1",
    recorded: 35 as never,
    upstream: 40 as never,
    at: at()
  }),
  new ReconciliationEvents.UsageDiscrepancyFound({
    ...ids,
    scope: "all-time",
    date: null,
    model: null,
    recorded: 49 as never,
    upstream: 50 as never,
    at: at()
  }),
  new ReconciliationEvents.UsageDiscrepancyFound({
    ...u2,
    scope: "day",
    date: day,
    model: "anthropic/claude",
    recorded: 1 as never,
    upstream: 2 as never,
    at: at()
  }),
  new UserEvents.KeyDetached({ ...u2, at: at() }),
  new ApiKeyEvents.KeyDeleted({ ...u2, at: at() }),
  new UserEvents.UserDeleted({ userId: u2.userId, email: "b@x.io", at: at() })
]

const snapshot = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const tables: Record<string, ReadonlyArray<unknown>> = {}
  for (const p of allProjections) tables[p.table] = yield* sql.unsafe(`SELECT * FROM ${p.table} ORDER BY 1, 2, 3`)
  return tables
})

/** Appends the script one event per transaction, projected inline; the tables; the tables after a rebuild. */
const inlineThenRebuild = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const store = yield* EventStore
  const projector = yield* Projector
  const versions = new Map<string, number>()
  minute = 0
  for (const event of script()) {
    const streamId = streamOf(event)
    const expectedVersion = versions.get(streamId) ?? 0
    yield* sql.withTransaction(
      projector.projectInline(store.append([{ streamId, expectedVersion, events: [event] }], testMetadata()))
    )
    versions.set(streamId, expectedVersion + 1)
  }
  const inline = yield* snapshot
  yield* projector.rebuild()
  return { inline, rebuilt: yield* snapshot }
})

const check = ({ inline, rebuilt }: Effect.Effect.Success<typeof inlineThenRebuild>) => {
  expect(rebuilt).toEqual(inline)
  // Every table holds rows of the first user (the property is not about empty tables), none of the second.
  for (const p of allProjections) {
    expect(inline[p.table]?.length, p.table).toBeGreaterThan(0)
    expect(JSON.stringify(inline[p.table])).not.toContain('"u2"')
  }
  const [key] = inline.api_keys as ReadonlyArray<Record<string, unknown>>
  expect(key).toMatchObject({
    name: "production",
    is_invalid: 1,
    is_failing: 1,
    last_error: "503 from upstream",
    limit_micros: 9_000_000,
    limit_reset: "weekly",
    is_management_key: 1,
    usage_total_micros: 1_000_000,
    last_used_at: "2026-11-01T08:16:00.000Z"
  })
  expect(inline.users).toMatchObject([{ id: "u1", password_hash: "h1b", key_count: 1 }])
  expect((inline.usage_stats as ReadonlyArray<Record<string, unknown>>).map((r) => Number(r.requests_count))).toEqual([
    5, 2
  ])
}

it.live("every projection's writes, inline and replayed, give the same rows (SQLite)", () =>
  Effect.map(Effect.provide(inlineThenRebuild, Core.layerFile(":memory:")), check)
)

it.live.skipIf(!onPostgres())("every projection's writes, inline and replayed, give the same rows (PostgreSQL)", () =>
  Effect.gen(function* () {
    const { database } = yield* Effect.promise(() => freshDatabase())
    check(yield* Effect.provide(inlineThenRebuild, Core.layerDatabase(database)))
  })
)
