import { usdToMicros } from "@orw/domain"
import { Fault } from "@orw/server/OpenRouter/Simulator"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"
import { recordUsage } from "./support/usage.js"

let server: TestServer
let api: ReturnType<typeof client>

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)

/** Activity the simulator reports (completed days), per key. */
const ACTIVITY = [
  { key: "a", date: day(3), model: "openai/gpt-4.1", provider: "OpenAI", usd: 0.123456, req: 5, tin: 100, tout: 200 },
  { key: "a", date: day(3), model: "openai/gpt-4.1", provider: "Azure", usd: 0.1, req: 1, tin: 10, tout: 20 },
  {
    key: "a",
    date: day(3),
    model: "anthropic/claude-sonnet-4",
    provider: "Anthropic",
    usd: 1.000001,
    req: 2,
    tin: 50,
    tout: 60
  },
  { key: "a", date: day(2), model: "openai/gpt-4.1", provider: "OpenAI", usd: 0.2, req: 3, tin: 30, tout: 40 },
  { key: "b", date: day(3), model: "openai/gpt-4.1", provider: "OpenAI", usd: 0.000001, req: 1, tin: 1, tout: 1 }
] as const
/**
 * Usage of today, seen only as growth of key a's total (hourly analytics refused from then on): recorded as
 * `unattributed`. With hourly analytics, today is split per model: tests/agreement/totals.test.ts.
 */
const TODAY_USD = 0.5

interface Expected {
  requests: number
  tin: number
  tout: number
  micros: number
}
const sumOf = (rows: ReadonlyArray<(typeof ACTIVITY)[number]>): Expected =>
  rows.reduce(
    (t, r) => ({
      requests: t.requests + r.req,
      tin: t.tin + r.tin,
      tout: t.tout + r.tout,
      micros: t.micros + usdToMicros(r.usd)
    }),
    { requests: 0, tin: 0, tout: 0, micros: 0 }
  )
const usd = (micros: number) => Number((micros / 1e6).toFixed(6))

let alice: { jwt: string; token: string; keys: Record<"a" | "b" | "m", string> }

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
  const user = await api.user("alice")
  const simKeys = { a: server.sim.addKey(), b: server.sim.addKey(), m: server.sim.addKey({ isManagementKey: true }) }
  for (const row of ACTIVITY) {
    server.sim.addUsage(simKeys[row.key], row.usd, {
      date: row.date,
      model: row.model,
      provider: row.provider,
      requests: row.req,
      promptTokens: row.tin,
      completionTokens: row.tout
    })
  }
  const keys = {
    m: await api.addKey(user.jwt, simKeys.m, "management"),
    a: await api.addKey(user.jwt, simKeys.a, "a"),
    b: await api.addKey(user.jwt, simKeys.b, "b")
  }
  for (const id of [keys.m, keys.a, keys.b]) {
    const synced = await api.request("POST", `/api/keys/${id}/sync`, { bearer: user.jwt })
    if (synced.body.outcome !== "ok") throw new Error(`sync: ${synced.text}`)
  }
  server.sim.fail("/analytics/query", Fault.forbidden(), Number.POSITIVE_INFINITY)
  server.sim.addUsage(simKeys.a, TODAY_USD)
  await api.request("POST", `/api/keys/${keys.a}/sync`, { bearer: user.jwt })
  alice = { jwt: user.jwt, token: (await api.apiToken(user.jwt)).token, keys }
})
afterAll(() => server.close())

describe("GET /api/v1/stats", () => {
  it("all time: summary and by_model from real sync data, money exact to 6 decimals", async () => {
    const r = await api.request("GET", "/api/v1/stats", { bearer: alice.token })
    expect(r.status).toBe(200)
    const all = sumOf(ACTIVITY)
    expect(r.body.summary).toEqual({
      total_requests: all.requests,
      total_cost: usd(all.micros + usdToMicros(TODAY_USD)),
      total_tokens_input: all.tin,
      total_tokens_output: all.tout
    })
    const models: Array<{
      model: string
      requests: number
      cost: number
      tokens_input: number
      tokens_output: number
    }> = [...new Set(ACTIVITY.map((a) => a.model))].map((model) => {
      const s = sumOf(ACTIVITY.filter((a) => a.model === model))
      return { model, requests: s.requests, cost: usd(s.micros), tokens_input: s.tin, tokens_output: s.tout }
    })
    models.push({ model: "unattributed", requests: 0, cost: TODAY_USD, tokens_input: 0, tokens_output: 0 })
    models.sort((x, y) => y.cost - x.cost || x.model.localeCompare(y.model))
    expect(r.body.by_model).toEqual(models)
    expect(r.headers.get("x-ratelimit-limit")).not.toBeNull()
  })

  it("start_date/end_date restrict the range; start after end is 400; a bad date 422", async () => {
    const r = await api.request("GET", `/api/v1/stats?start_date=${day(2)}&end_date=${day(0)}`, {
      bearer: alice.token
    })
    const inRange = sumOf(ACTIVITY.filter((a) => a.date >= day(2)))
    expect(r.body.summary.total_cost).toBe(usd(inRange.micros + usdToMicros(TODAY_USD)))
    expect(r.body.summary.total_requests).toBe(inRange.requests)
    const empty = await api.request("GET", `/api/v1/stats?end_date=${day(10)}`, { bearer: alice.token })
    expect(empty.body).toEqual({
      summary: { total_requests: 0, total_cost: 0, total_tokens_input: 0, total_tokens_output: 0 },
      by_model: []
    })
    const reversed = await api.request("GET", `/api/v1/stats?start_date=${day(1)}&end_date=${day(2)}`, {
      bearer: alice.token
    })
    expect(reversed.status).toBe(400)
    expect(reversed.body).toEqual({ detail: "start_date must not be after end_date" })
    // Impossible days are schema errors (422), never a 500 from date arithmetic, on /stats and /usage alike.
    for (const bad of ["2024-02-30", "yesterday", "2024-1-01", "2024-13-01", "2024-00-10", "2024-01-32"]) {
      for (const route of ["stats", "usage"]) {
        const invalid = await api.request("GET", `/api/v1/${route}?start_date=${bad}`, { bearer: alice.token })
        expect([route, bad, invalid.status]).toEqual([route, bad, 422])
        expect(invalid.body.detail).toContain("start_date")
      }
    }
  })
})

describe("GET /api/v1/usage", () => {
  it("rows per (date, model) summed over the user's keys, ordered by date then model", async () => {
    const r = await api.request("GET", "/api/v1/usage", { bearer: alice.token })
    expect(r.status).toBe(200)
    const slots = [...new Set(ACTIVITY.map((a) => `${a.date}|${a.model}`))].sort()
    const expected = slots.map((slot) => {
      const s = sumOf(ACTIVITY.filter((a) => `${a.date}|${a.model}` === slot))
      const [date, model] = slot.split("|")
      const final = { estimated: false }
      return {
        date,
        model,
        requests: s.requests,
        tokens_input: s.tin,
        tokens_output: s.tout,
        cost: usd(s.micros),
        ...final
      }
    })
    // Completed days with OpenRouter's per-model split are final; today's running growth is an estimate.
    expected.push({
      date: day(0),
      model: "unattributed",
      requests: 0,
      tokens_input: 0,
      tokens_output: 0,
      cost: TODAY_USD,
      estimated: true
    })
    expect(r.body.items).toEqual(expected)
    expect(r.body.pagination).toEqual({ page: 1, limit: 100, total: expected.length, pages: 1 })
  })

  it("key_id restricts to one key; another user's key is 403, an unknown one 404", async () => {
    const r = await api.request("GET", `/api/v1/usage?key_id=${alice.keys.b}`, { bearer: alice.token })
    const b = ACTIVITY.filter((a) => a.key === "b")
    expect(r.body.items).toEqual(
      b.map((row) => ({
        date: row.date,
        model: row.model,
        requests: row.req,
        tokens_input: row.tin,
        tokens_output: row.tout,
        cost: usd(usdToMicros(row.usd)),
        estimated: false
      }))
    )
    const bob = await api.user("bob")
    const bobToken = await api.apiToken(bob.jwt)
    const foreign = await api.request("GET", `/api/v1/usage?key_id=${alice.keys.a}`, { bearer: bobToken.token })
    expect(foreign.status).toBe(403)
    expect(foreign.body).toEqual({ detail: "Not allowed to access this API key" })
    const unknown = await api.request("GET", "/api/v1/usage?key_id=no-such-key", { bearer: bobToken.token })
    expect(unknown.status).toBe(404)
    expect(unknown.body).toEqual({ detail: "API key not found" })
    expect((await api.request("GET", "/api/v1/usage", { bearer: bobToken.token })).body.items).toEqual([])
  })

  it.each([["limit=0"], ["limit=1001"], ["limit=abc"], ["page=0"], ["page=1.5"]])(
    "422 with detail for %s",
    async (query) => {
      const r = await api.request("GET", `/api/v1/usage?${query}`, { bearer: alice.token })
      expect(r.status).toBe(422)
      expect(r.body.detail).toContain(query.split("=")[0])
    }
  )
})

describe("pagination over seeded events", () => {
  const DATES = [day(9), day(8), day(7), day(6), day(5)]
  const MODELS = ["m-e", "m-a", "m-d", "m-b", "m-c"]
  let token: string

  beforeAll(async () => {
    const carol = await api.user("carol")
    const k1 = await api.addKey(carol.jwt)
    const k2 = await api.addKey(carol.jwt)
    token = (await api.apiToken(carol.jwt)).token
    const record = recordUsage
    await server.run(
      Effect.forEach(DATES, (date) =>
        Effect.forEach(MODELS, (model) =>
          Effect.zipRight(record(k1, date, model, 100_000, 1), record(k2, date, model, 200_000, 2))
        )
      )
    )
  })

  it("pages of `limit`, the last one partial, beyond it empty; order is stable across pages", async () => {
    const pages = []
    for (const page of [1, 2, 3, 4]) {
      const r = await api.request("GET", `/api/v1/usage?page=${page}&limit=10`, { bearer: token })
      expect(r.status).toBe(200)
      expect(r.body.pagination).toEqual({ page, limit: 10, total: 25, pages: 3 })
      pages.push(r.body.items)
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5, 0])
    const all = pages.flat()
    const expectedOrder = [...DATES].sort().flatMap((date) => [...MODELS].sort().map((model) => `${date}|${model}`))
    expect(all.map((i: { date: string; model: string }) => `${i.date}|${i.model}`)).toEqual(expectedOrder)
    // 0.1 + 0.2 USD from two keys: exactly 0.3, summed as integer micro-dollars.
    expect(all.every((i: { cost: number; requests: number }) => i.cost === 0.3 && i.requests === 3)).toBe(true)
    const stats = await api.request("GET", "/api/v1/stats", { bearer: token })
    expect(stats.body.summary.total_cost).toBe(7.5)
  })
})

describe("GET /api/v1/keys", () => {
  it("each key with its all-time requests and cost", async () => {
    const r = await api.request("GET", "/api/v1/keys", { bearer: alice.token })
    expect(r.status).toBe(200)
    const stats = (key: "a" | "b") => {
      const s = sumOf(ACTIVITY.filter((a) => a.key === key))
      return { total_requests: s.requests, total_cost: usd(s.micros + (key === "a" ? usdToMicros(TODAY_USD) : 0)) }
    }
    expect(
      r.body.items.map((k: { id: string; stats: unknown; is_active: boolean }) => [k.id, k.is_active, k.stats])
    ).toEqual([
      [alice.keys.m, true, { total_requests: 0, total_cost: 0 }],
      [alice.keys.a, true, stats("a")],
      [alice.keys.b, true, stats("b")]
    ])
  })
})
