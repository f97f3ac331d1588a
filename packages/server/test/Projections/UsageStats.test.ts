import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { effectiveLines, keySpend, sumUsage, sumUsageBy, type UsageLine } from "@orw/domain"
import { Effect, Runtime } from "effect"
import fc from "fast-check"
import * as Core from "../../src/Core.js"
import * as UsageStats from "../../src/Projections/UsageStats.js"
import { freshDatabase, onPostgres } from "../support/Postgres.js"

/*
 * The SQL of the usage read model against the domain's definition: for random rows and a random filter,
 * every grouped read equals `effectiveLines` (the supersede rule) summed by the domain's exact sums.
 */

const owner: Record<string, string> = { k0: "u0", k1: "u0", k2: "u0", k3: "u1" }
const keys = Object.keys(owner)
const dates = ["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]
// Upper case and punctuation too: a linguistic collation orders these unlike the bytes do.
const models = ["unattributed", "anthropic/claude-sonnet-4", "openai/gpt-4.1", "z-ai/glm-4", "Zeta/x", "z_ai/a", "za/b"]
// Beyond 2^32 micro-dollars, so a sum that went through 32-bit ints or floats would show.
const figure = fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 2 ** 40 }))

const lines = fc.uniqueArray(
  fc.record({
    keyId: fc.constantFrom(...keys),
    date: fc.constantFrom(...dates),
    model: fc.constantFrom(...models),
    requests: fc.integer({ min: 0, max: 1_000_000 }),
    tokensInput: figure,
    tokensOutput: figure,
    cost: figure
  }),
  { selector: (l) => `${l.keyId}|${l.date}|${l.model}`, maxLength: 40 }
)

const filter = fc.record({
  userId: fc.constantFrom("u0", "u1"),
  keyId: fc.option(fc.constantFrom(...keys), { nil: undefined }),
  startDate: fc.option(fc.constantFrom(...dates), { nil: undefined }),
  endDate: fc.option(fc.constantFrom(...dates), { nil: undefined })
})

const matches = (f: UsageStats.UsageFilter) => (l: UsageLine) =>
  owner[l.keyId] === f.userId &&
  (f.keyId === undefined || l.keyId === f.keyId) &&
  (f.startDate === undefined || l.date >= f.startDate) &&
  (f.endDate === undefined || l.date <= f.endDate)

/** The order the API pages in: byte by byte (SQLite's BINARY, `COLLATE "C"` on PostgreSQL), not the locale's. */
const bytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const byDateModel = (a: UsageLine, b: UsageLine) =>
  bytes(a.date, b.date) || bytes(a.model, b.model) || bytes(a.keyId, b.keyId)

const store = (rows: ReadonlyArray<UsageLine>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.gen(function* () {
      yield* sql`DELETE FROM usage_stats`
      for (const l of rows) {
        yield* sql`INSERT INTO usage_stats ${sql.insert({
          api_key_id: l.keyId,
          user_id: owner[l.keyId] ?? "",
          date: l.date,
          model: l.model,
          requests_count: l.requests,
          tokens_input: l.tokensInput,
          tokens_output: l.tokensOutput,
          cost_micros: l.cost,
          byok_cost_micros: 0,
          updated_at: "2026-02-02T00:00:00.000Z"
        })}`
      }
    })
  )

const agrees = (rows: ReadonlyArray<UsageLine>, f: UsageStats.UsageFilter, page: { offset: number; limit: number }) =>
  Effect.gen(function* () {
    yield* store(rows)
    const expected = effectiveLines(rows).filter(matches(f)).sort(byDateModel)
    expect(yield* UsageStats.effectiveUsage(f)).toEqual(expected)
    expect(yield* UsageStats.total(f)).toEqual(sumUsage(expected))

    const models = new Map([...sumUsageBy(expected, (l) => l.model)].map(([m, g]) => [m, g.sum]))
    expect(new Map((yield* UsageStats.byModel(f)).map((m) => [m.model, m.sum]))).toEqual(models)
    const perKey = new Map([...sumUsageBy(expected, (l) => l.keyId)].map(([k, g]) => [k, g.sum]))
    expect(yield* UsageStats.byKey(f)).toEqual(perKey)
    const perDay = new Map(
      [...sumUsageBy(expected, (l) => l.date)].map(([d, g]) => [
        d,
        { sum: g.sum, unattributed: expected.some((l) => l.date === d && l.model === "unattributed") }
      ])
    )
    expect(yield* UsageStats.byDay(f)).toEqual(perDay)

    const groups = [...sumUsageBy(expected, (l) => `${l.date}|${l.model}`).values()]
    expect(yield* UsageStats.byDateModel(f, page)).toEqual({
      items: groups
        .slice(page.offset, page.offset + page.limit)
        .map(({ first, sum }) => ({ date: first.date, model: first.model, sum })),
      total: groups.length
    })

    const today = dates[2] ?? ""
    const spends = yield* UsageStats.spendOfKeys(keys, today)
    for (const k of keys) {
      const ofKey = rows.filter((l) => l.keyId === k)
      if (ofKey.length === 0) expect(spends.has(k)).toBe(false)
      else expect(spends.get(k)).toEqual(keySpend(ofKey, today))
    }
  })

/** Runs the property `runs` times on one database (the runtime's), emptied and refilled each time. */
const property = (runs: number) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<SqlClient.SqlClient>()
    yield* Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          lines,
          filter,
          fc.integer({ min: 0, max: 20 }),
          fc.integer({ min: 1, max: 20 }),
          (rows, f, offset, limit) => Runtime.runPromise(runtime)(agrees(rows, f, { offset, limit }))
        ),
        { numRuns: runs }
      )
    )
  })

it.live("usage_stats' SQL sums equal the domain's supersede rule and sums (SQLite)", () =>
  Effect.provide(property(150), Core.layerFile(":memory:"))
)

it.live.skipIf(!onPostgres())("usage_stats' SQL sums equal the domain's supersede rule and sums (PostgreSQL)", () =>
  Effect.gen(function* () {
    const { database } = yield* Effect.promise(() => freshDatabase())
    yield* Effect.provide(property(60), Core.layerDatabase(database))
  })
)

it.live.skipIf(!onPostgres())(
  "the same answers, in the same order, on a PostgreSQL database with a linguistic collation (ICU en-US)",
  () =>
    Effect.gen(function* () {
      const { database } = yield* Effect.promise(() => freshDatabase({ linguistic: true }))
      yield* Effect.provide(property(40), Core.layerDatabase(database))
    })
)
