import { Fault } from "@orw/server/OpenRouter/Simulator"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
