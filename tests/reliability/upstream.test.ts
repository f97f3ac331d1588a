import { Fault } from "@orw/server/OpenRouter/Simulator"
import { Duration } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, expect, it } from "vitest"
import { client } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"
import { SOAK } from "./support/state.js"

/*
 * Syncs against the simulator with a random mix of upstream faults: 429, 5xx, timeouts (latency past
 * OPENROUTER_TIMEOUT), truncated and malformed JSON, connection resets. No wrong figure is ever shown (a
 * figure is either not there yet or the simulator's), the figures equal the simulator's once the faults
 * stop, and memory stays bounded.
 */

const SYNCS = SOAK ? 1_000 : 200
const KEYS = 4

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer({ openRouterTimeout: Duration.millis(150) })
  api = client(server.url)
})
afterAll(() => server.close())

/** What the simulator itself holds for a key, in USD: its own usage plus its activity rows. The ground truth. */
const truth = (key: string) => {
  const k = server.sim.key(key)
  return (k.usage.total + k.activity.reduce((sum, row) => sum + row.usage, 0)) / 1e9
}

const faults = fc.constantFrom(
  () => Fault.rateLimited(0),
  () => Fault.serverError(),
  () => Fault.status(502, "Bad gateway"),
  () => Fault.unavailable(0),
  () => Fault.latency(400),
  () => Fault.truncated(),
  () => Fault.malformed(),
  () => Fault.reset(),
  null
)
const endpoints = fc.constantFrom("/key" as const, "/activity" as const, "*" as const)

it(`${SYNCS} syncs under random upstream faults: never a wrong figure, the truth once faults stop, memory bounded`, async () => {
  const { jwt } = await api.user("faults")
  const { token } = await api.apiToken(jwt)
  const keys: Array<{ key: string; id: string }> = []
  // Key 0 is the user's management key (the sync reads the others' per-model /activity through it).
  for (let i = 0; i < KEYS; i++) {
    const key = server.sim.addKey({ usage: { total: 0 }, isManagementKey: i === 0 })
    // Yesterday: /activity reports completed UTC days.
    const date = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
    if (i > 0) server.sim.addUsage(key, 1.25 * (i + 1), { requests: 10 * (i + 1), date })
    keys.push({ key, id: await api.addKey(jwt, key, `k${i}`) })
  }
  const TOTAL_REQUESTS = 20 + 30 + 40
  const TOTAL_COST = 1.25 * (2 + 3 + 4)
  const schedule = fc.sample(
    fc.tuple(faults, endpoints, fc.integer({ min: 0, max: KEYS - 1 }), fc.integer({ min: 1, max: 3 })),
    {
      numRuns: SYNCS,
      seed: 13
    }
  )
  const rss: Array<number> = []
  const seen = new Map<string, Set<string>>()
  const outcomes = { ok: 0, failed: 0, other: 0 }
  for (const [i, [fault, endpoint, which, times]] of schedule.entries()) {
    if (fault !== null) server.sim.fail(endpoint, fault(), times)
    const { id } = keys[which] ?? { id: "" }
    const r = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(r.status, r.text).toBe(200)
    if (r.body.outcome === "ok") outcomes.ok++
    else if (r.body.outcome === "failed") outcomes.failed++
    else outcomes.other++
    const figure = JSON.stringify([r.body.key.usage_total, r.body.key.usage_daily, r.body.key.usage_monthly])
    if (r.body.key.usage_total !== null) {
      const set = seen.get(id) ?? new Set()
      set.add(figure)
      seen.set(id, set)
    }
    // Never invalid because of a 5xx or a timeout: only a 401 may say that.
    expect(r.body.key.status).not.toBe("invalid")
    if (i % 50 === 0) rss.push(process.memoryUsage().rss)
    if (i % 20 === 0) {
      // The public figures never over-count on the way (a retried or half-read sync counted twice).
      const partial = (await api.request("GET", "/api/v1/stats", { bearer: token })).body.summary
      expect(partial.total_requests).toBeLessThanOrEqual(TOTAL_REQUESTS)
      expect(partial.total_cost).toBeLessThanOrEqual(TOTAL_COST + 1e-9)
    }
  }
  // Faults stop: drain what is queued, then one clean sync per key.
  server.sim.faults.clear()
  for (const { id } of keys) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
      if (r.body.outcome === "ok") break
    }
  }
  const rows = (await api.request("GET", "/api/keys", { bearer: jwt })).body.items as Array<Record<string, unknown>>
  for (const { key, id } of keys) {
    const row = rows.find((r) => r.id === id)
    const expected = truth(key)
    expect(row?.status).toBe("active")
    expect(row?.usage_total).toBeCloseTo(expected, 6)
    // Every figure seen on the way was the one true figure.
    expect([...(seen.get(id) ?? [])]).toEqual([
      JSON.stringify([row?.usage_total, row?.usage_daily, row?.usage_monthly])
    ])
  }
  const stats = await api.request("GET", "/api/v1/stats", { bearer: token })
  expect(stats.body.summary.total_requests).toBe(TOTAL_REQUESTS)
  expect(stats.body.summary.total_cost).toBeCloseTo(TOTAL_COST, 6)
  const growth = ((rss.at(-1) ?? 0) - (rss[1] ?? rss[0] ?? 0)) / 1024 / 1024
  console.info(
    `upstream faults: ${SYNCS} syncs, outcomes ${JSON.stringify(outcomes)}, requests to the simulator ${server.sim.count()}, RSS growth after warm-up ${growth.toFixed(1)} MiB`
  )
  expect(growth).toBeLessThan(150)
}, 600_000)
