import { SqlClient } from "@effect/sql"
import { ApiKeyId } from "@orw/domain"
import { originOf } from "@orw/server/App/Origin"
import { KeySync } from "@orw/server/OpenRouter/KeySync"
import { Fault } from "@orw/server/OpenRouter/Simulator"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { orw } from "../cli/fixture.js"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

/*
 * A year of history on connect (openrouter-api.md, item 5), through the simulator over loopback: analytics
 * queries per key (by hash, per model, per day), paged by time range on `truncated`, with the simulator's
 * traps (counts as strings, null metrics, both time-field names, metadata inside or beside data).
 */

const DAY = 86_400_000
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10)
const MODELS = ["openai/gpt-4.1", "anthropic/claude-sonnet-4"] as const

let server: TestServer
let api: ReturnType<typeof client>
let jwt: string
let keyId: string
let simKey: string
let token: string

beforeAll(async () => {
  // A small row cap, so a year of rows comes back truncated and must be paged.
  server = await startServer({}, { simulator: { analyticsMaxRows: 150 } })
  api = client(server.url)
  const user = await api.user("history")
  jwt = user.jwt
  token = (await api.apiToken(jwt)).token
  const management = server.sim.addKey({ isManagementKey: true })
  simKey = server.sim.addKey()
  // 364 completed days of spend over two models, amounts to the nano-dollar, some BYOK.
  for (let d = 1; d <= 364; d++) {
    for (const [m, model] of MODELS.entries()) {
      if ((d + m) % 7 === 0) continue
      server.sim.addUsage(simKey, ((d * 7919 + m * 104_729) % 100_000) / 1e6 + 0.000000123, {
        date: day(d),
        model,
        requests: 1 + ((d * 13 + m) % 40),
        promptTokens: d * 100 + m,
        completionTokens: d * 10 + m,
        byokUsd: d % 5 === 0 ? 0.000321 : 0
      })
    }
  }
  const managementId = await api.addKey(jwt, management, "management")
  await api.request("POST", `/api/keys/${managementId}/sync`, { bearer: jwt })
  keyId = await api.addKey(jwt, simKey, "year")
})
afterAll(() => server.close())

/** The simulator's own ledger per (date, model): USD, counts. */
const ledger = () => {
  const sums = new Map<string, { cost: number; byok: number; requests: number; tin: number; tout: number }>()
  for (const row of server.sim.key(simKey).activity) {
    const slot = `${row.date}|${row.model}`
    const s = sums.get(slot) ?? { cost: 0, byok: 0, requests: 0, tin: 0, tout: 0 }
    sums.set(slot, {
      cost: s.cost + row.usage / 1e9,
      byok: s.byok + row.byok_usage_inference / 1e9,
      requests: s.requests + row.requests,
      tin: s.tin + row.prompt_tokens,
      tout: s.tout + row.completion_tokens
    })
  }
  return sums
}

describe("a year of history on connect", () => {
  it("records every (date, model) of the 364 days exactly; truncated answers are paged; a 429 is honoured", async () => {
    // The first analytics call is refused with 429 and Retry-After: the import waits and goes on.
    server.sim.fail("/analytics/query", Fault.rateLimited(1), 1)
    const synced = await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: jwt })
    expect(synced.body.outcome).toBe("ok")
    const queries = server.sim.requests.filter((r) => r.endpoint === "/analytics/query")
    expect(queries[0]?.fault).toBe("Status")
    // More than one day query answered: the truncated year was split and each part read.
    expect(queries.filter((r) => r.fault === null).length).toBeGreaterThan(3)

    const items: Array<{
      date: string
      model: string
      cost: number
      requests: number
      tokens_input: number
      tokens_output: number
      estimated: boolean
    }> = []
    for (let page = 1; ; page++) {
      const r = await api.request("GET", `/api/v1/usage?key_id=${keyId}&limit=1000&page=${page}`, { bearer: token })
      items.push(...r.body.items)
      if (page >= r.body.pagination.pages) break
    }
    const expected = ledger()
    expect(items.length).toBe(expected.size)
    for (const item of items) {
      const want = expected.get(`${item.date}|${item.model}`)
      if (want === undefined) throw new Error(`not in the ledger: ${item.date} ${item.model}`)
      // cost = total_usage − byok_usage: the ledger's usage, within a micro-dollar.
      expect(Math.abs(item.cost - want.cost)).toBeLessThanOrEqual(1e-6)
      expect([item.requests, item.tokens_input, item.tokens_output]).toEqual([want.requests, want.tin, want.tout])
      expect(Number.isInteger(item.requests)).toBe(true)
      expect(item.estimated).toBe(false)
    }
    // Days older than the activity window came from analytics, the last 30 from /activity only.
    expect(items.some((i) => i.date === day(364))).toBe(true)
    const activityHashes = server.sim.requests.filter((r) => r.endpoint === "/activity").length
    expect(activityHashes).toBeGreaterThan(0)

    // A second sync does not import the year again (only today's hourly figures are asked).
    const before = server.sim.count("/analytics/query")
    await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: jwt })
    expect(server.sim.count("/analytics/query") - before).toBe(1)
  })
})

describe("a key backfilled before the year import existed", () => {
  it("gets its year at the next sync (no analytics import recorded yet), once", async () => {
    const user = await api.user("older")
    const management = server.sim.addKey({ isManagementKey: true })
    const old = server.sim.addKey()
    server.sim.addUsage(old, 0.123456, { date: day(100), model: MODELS[0], requests: 2 })
    const managementId = await api.addKey(user.jwt, management, "management")
    await api.request("POST", `/api/keys/${managementId}/sync`, { bearer: user.jwt })
    const id = await api.addKey(user.jwt, old, "older")
    // What a release before the import left: the activity backfilled, no year imported.
    await server.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql`INSERT INTO key_sync (key_id, activity_backfilled_at) VALUES (${id}, ${new Date().toISOString()})`
      )
    )
    const before = server.sim.count("/analytics/query")
    await api.request("POST", `/api/keys/${id}/sync`, { bearer: user.jwt })
    // The year (one day query) and today's hourly figures.
    expect(server.sim.count("/analytics/query") - before).toBe(2)
    const rows = await usageRows(id, (await api.apiToken(user.jwt)).token)
    expect(rows.map((r) => [r.date, r.model, r.cost])).toEqual([[day(100), MODELS[0], 0.123456]])
    const again = server.sim.count("/analytics/query")
    await api.request("POST", `/api/keys/${id}/sync`, { bearer: user.jwt })
    expect(server.sim.count("/analytics/query") - again).toBe(1)
  })
})

/** The daily reconciliation of one key, as the supervisor's pass (and `orw reconcile`) runs it. */
const reconcile = (id: string) =>
  server.run(Effect.flatMap(KeySync, (sync) => sync.reconcileKey(ApiKeyId.make(id), originOf("sync"), null)))

/** Every /api/v1/usage row of the key, all pages. */
const usageRows = async (id: string, bearer = token) => {
  const items: Array<{ date: string; model: string; cost: number }> = []
  for (let page = 1; ; page++) {
    const r = await api.request("GET", `/api/v1/usage?key_id=${id}&limit=1000&page=${page}`, { bearer })
    items.push(...r.body.items)
    if (page >= r.body.pagination.pages) break
  }
  return items
}

const metric = async (scope: string) => {
  const text = (await api.request("GET", "/metrics")).text
  const line = text.split("\n").find((l) => l.startsWith(`orw_usage_discrepancies_total{scope="${scope}"}`))
  return Number(line?.split(" ").at(-1))
}

describe("daily reconciliation (openrouter-api.md, item 7)", () => {
  it("a past day OpenRouter revised: one discrepancy with both figures, the day healed, a second pass finds nothing", async () => {
    // Today's spend too: the all-time check must not take today's estimate (or the baseline) for a discrepancy.
    server.sim.addUsage(simKey, 0.37, { model: MODELS[0], requests: 3 })
    const first = await reconcile(keyId)
    expect([first.outcome, first.found]).toEqual(["ok", []])
    expect(await metric("day")).toBe(0)

    // OpenRouter revises a day of the activity window, older than the days every sync re-reads.
    const row = server.sim.key(simKey).activity.find((r) => r.date === day(10) && r.model === MODELS[1])
    if (row === undefined) throw new Error("no activity row 10 days ago")
    const before = row.usage
    row.usage += 2_500_000 // + $0.0025
    const found = await reconcile(keyId)
    expect(found.outcome).toBe("ok")
    expect(
      found.found.map((e) => ({ scope: e.scope, date: e.date, model: e.model, r: e.recorded, u: e.upstream }))
    ).toEqual([
      {
        scope: "day",
        date: day(10),
        model: MODELS[1],
        r: Math.round(before / 1000),
        u: Math.round(row.usage / 1000)
      }
    ])
    // Healed: every recorded (date, model) equals the simulator's ledger again.
    const expected = ledger()
    const items = await usageRows(keyId)
    for (const item of items) {
      const want = expected.get(`${item.date}|${item.model}`)
      expect(Math.abs(item.cost - (want?.cost ?? Number.NaN))).toBeLessThanOrEqual(1e-6)
    }
    expect(items.length).toBe(expected.size)
    // Shown on the key, counted in /metrics.
    const listed = await api.request("GET", "/api/keys", { bearer: jwt })
    expect(listed.body.items.find((k: { id: string }) => k.id === keyId).last_discrepancy).toMatchObject({
      key_id: keyId,
      scope: "day",
      date: day(10),
      model: MODELS[1],
      recorded: Math.round(before / 1000) / 1e6,
      upstream: Math.round(row.usage / 1000) / 1e6
    })
    expect(await metric("day")).toBe(1)
    // A second pass right after: nothing.
    const again = await reconcile(keyId)
    expect([again.outcome, again.found, again.healed]).toEqual(["ok", [], 0])
    expect(await metric("day")).toBe(1)
  })

  it("all-time usage OpenRouter reports beyond the recorded days: one all-time discrepancy, reported once", async () => {
    // $1.5 in /key's all-time usage that no day of activity or analytics shows (e.g. older than the history).
    server.sim.key(simKey).usage.total += 1_500_000_000
    const found = await reconcile(keyId)
    expect(found.found.map((e) => [e.scope, e.date, e.model])).toEqual([["all-time", null, null]])
    const [finding] = found.found
    expect((finding?.upstream ?? 0) - (finding?.recorded ?? 0)).toBeGreaterThan(1_499_000)
    expect((finding?.upstream ?? 0) - (finding?.recorded ?? 0)).toBeLessThan(1_501_000)
    const row = await api.request("GET", "/api/keys", { bearer: jwt })
    const shown = row.body.items.find((k: { id: string }) => k.id === keyId)
    expect(shown.last_discrepancy).toMatchObject({ scope: "all-time", date: null, model: null })
    expect(await metric("all-time")).toBe(1)
    // The same gap tomorrow is the same discrepancy: not reported again.
    expect((await reconcile(keyId)).found).toEqual([])
    expect(await metric("all-time")).toBe(1)
    server.sim.key(simKey).usage.total -= 1_500_000_000
  })

  it("a key without a management key (baseline + unattributed growth) agrees with OpenRouter's all-time usage", async () => {
    const other = await api.user("plain")
    const plain = server.sim.addKey({ usage: { total: 12.345678 } })
    const id = await api.addKey(other.jwt, plain, "plain")
    await api.request("POST", `/api/keys/${id}/sync`, { bearer: other.jwt })
    server.sim.addUsage(plain, 0.4321)
    await api.request("POST", `/api/keys/${id}/sync`, { bearer: other.jwt })
    server.sim.addUsage(plain, 0.1)
    const result = await reconcile(id)
    expect([result.outcome, result.found]).toEqual(["ok", []])
  })

  it("the key row's last_discrepancy is in /openapi.json", async () => {
    const doc = (await api.request("GET", "/openapi.json")).body
    const row = doc.components.schemas.KeyRow
    expect(row.required).toContain("last_discrepancy")
    expect(JSON.stringify(row.properties.last_discrepancy)).toContain("reconciliation")
    expect(Object.keys(doc.components.schemas.Discrepancy.properties).sort()).toEqual(
      ["date", "found_at", "key_id", "model", "recorded", "scope", "upstream"].sort()
    )
  })

  it.skipIf(process.env.ORW_TEST_DB === "pg")("orw discrepancies lists them, one readable line each", async () => {
    const run = await orw(["discrepancies", "--key", keyId], { DATABASE_URL: server.databaseFile })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    const lines = run.stdout.trim().split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\S+Z  ${keyId} \\(year\\)  ${day(10)} ${MODELS[1]}: recorded \\$\\d+\\.\\d{6}, OpenRouter \\$\\d+\\.\\d{6} \\(\\+0\\.002500\\)$`
      )
    )
    expect(lines[1]).toMatch(/all-time total: recorded \$\d+\.\d{6}, OpenRouter \$\d+\.\d{6} \(\+1\.5\d{5}\)$/)
  })
})
