import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

const ROW_FIELDS = [
  "amount",
  "created_at",
  "id",
  "key_id",
  "period",
  "period_end",
  "period_start",
  "projected",
  "spent",
  "thresholds"
]
  .concat(["scope"])
  .sort()

/** A user with a key that has spent `usd` today (a baseline sync, then the growth). */
const spender = async (usd: number) => {
  const user = await api.user("budget")
  const key = server.sim.addKey({ usage: { total: 1 } })
  const keyId = await api.addKey(user.jwt, key, "spender")
  await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: user.jwt })
  const grow = async (more: number) => {
    server.sim.addUsage(key, more)
    const synced = await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: user.jwt })
    expect(synced.status).toBe(200)
  }
  if (usd > 0) await grow(usd)
  return { ...user, keyId, grow }
}

describe("/api/budgets", () => {
  it("201 with the row: spent is the period's effective spend, projected, and the UTC reset", async () => {
    const u = await spender(2)
    const r = await api.request("POST", "/api/budgets", {
      bearer: u.jwt,
      json: { scope: "key", key_id: u.keyId, amount: 10, period: "monthly" }
    })
    expect(r.status).toBe(201)
    expect(Object.keys(r.body).sort()).toEqual(ROW_FIELDS)
    expect(r.body).toMatchObject({ scope: "key", key_id: u.keyId, amount: 10, period: "monthly", spent: 2 })
    expect(r.body.thresholds).toEqual([50, 80, 100])
    expect(r.body.projected).toBeGreaterThanOrEqual(2)
    expect(r.body.period_start).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/)
    expect(r.body.period_end).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/)
    const list = await api.request("GET", "/api/budgets", { bearer: u.jwt })
    // `projected` moves with the clock between the two requests; everything else is the same row.
    expect(list.body.items.map((b: object) => ({ ...b, projected: 0 }))).toEqual([{ ...r.body, projected: 0 }])
  })

  it("a second budget for the same (scope, key, period) is 400; another period is fine", async () => {
    const u = await spender(0)
    const body = { scope: "account", amount: 50, period: "weekly" }
    expect((await api.request("POST", "/api/budgets", { bearer: u.jwt, json: body })).status).toBe(201)
    const again = await api.request("POST", "/api/budgets", { bearer: u.jwt, json: body })
    expect(again.status).toBe(400)
    expect(again.body).toEqual({ detail: "A budget for this scope, key and period already exists" })
    const other = await api.request("POST", "/api/budgets", { bearer: u.jwt, json: { ...body, period: "daily" } })
    expect(other.status).toBe(201)
  })

  it("racing creates of the same slot: exactly one budget", async () => {
    const u = await spender(0)
    const body = { scope: "account", amount: 5, period: "daily" }
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => api.request("POST", "/api/budgets", { bearer: u.jwt, json: body }))
    )
    expect(answers.map((a) => a.status).sort()).toEqual([201, 400, 400, 400, 400, 400, 400, 400])
    expect((await api.request("GET", "/api/budgets", { bearer: u.jwt })).body.items).toHaveLength(1)
  })

  it("bad input: 400 or 422 with detail, and nothing is created", async () => {
    const u = await spender(0)
    const bad = [
      [{ scope: "account", amount: 10, period: "daily", thresholds: [0] }, 400],
      [{ scope: "account", amount: 10, period: "daily", thresholds: [50, 50] }, 400],
      [{ scope: "account", amount: 10, period: "daily", thresholds: [1001] }, 400],
      [{ scope: "account", amount: -1, period: "daily" }, 400],
      [{ scope: "key", amount: 10, period: "daily" }, 400],
      [{ scope: "account", amount: 10, period: "yearly" }, 422],
      [{ scope: "account", amount: "ten", period: "daily" }, 422]
    ] as const
    for (const [json, status] of bad) {
      const r = await api.request("POST", "/api/budgets", { bearer: u.jwt, json })
      expect(r.status, JSON.stringify(json)).toBe(status)
      expect(typeof r.body.detail).toBe("string")
    }
    expect((await api.request("GET", "/api/budgets", { bearer: u.jwt })).body.items).toEqual([])
  })

  it("another user's key or budget is 403, an unknown budget 404; PUT 200, DELETE 204", async () => {
    const owner = await spender(0)
    const other = await api.user("other")
    const onKey = await api.request("POST", "/api/budgets", {
      bearer: other.jwt,
      json: { scope: "key", key_id: owner.keyId, amount: 10, period: "daily" }
    })
    expect(onKey.status).toBe(403)
    const created = await api.request("POST", "/api/budgets", {
      bearer: owner.jwt,
      json: { scope: "account", amount: 10, period: "daily" }
    })
    const path = `/api/budgets/${created.body.id}`
    expect((await api.request("PUT", path, { bearer: other.jwt, json: { amount: 1 } })).status).toBe(403)
    expect((await api.request("DELETE", path, { bearer: other.jwt })).status).toBe(403)
    expect((await api.request("PUT", "/api/budgets/nope", { bearer: owner.jwt, json: { amount: 1 } })).status).toBe(404)
    const changed = await api.request("PUT", path, { bearer: owner.jwt, json: { amount: 20, thresholds: [90] } })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ amount: 20, thresholds: [90] })
    expect((await api.request("DELETE", path, { bearer: owner.jwt })).status).toBe(204)
    expect((await api.request("DELETE", path, { bearer: owner.jwt })).status).toBe(404)
  })
})

describe("alerts", () => {
  it("a sync crossing thresholds fires each once; /api/alerts and /api/v1/alerts list them newest first", async () => {
    const u = await spender(0)
    const created = await api.request("POST", "/api/budgets", {
      bearer: u.jwt,
      json: { scope: "key", key_id: u.keyId, amount: 10, period: "monthly", thresholds: [50, 80, 100] }
    })
    await u.grow(6)
    await u.grow(0.5)
    await u.grow(2)
    const alerts = await api.request("GET", "/api/alerts", { bearer: u.jwt })
    const thresholds = alerts.body.items.filter((a: { kind: string }) => a.kind === "threshold")
    expect(thresholds.map((a: { threshold: number }) => a.threshold)).toEqual([80, 50])
    expect(thresholds[1]).toMatchObject({
      budget_id: created.body.id,
      key_id: u.keyId,
      amount: 10,
      spent: 6,
      period: "monthly"
    })
    expect(alerts.body.pagination).toMatchObject({ page: 1, limit: 50, total: alerts.body.items.length })
    const token = await api.apiToken(u.jwt)
    const v1 = await api.request("GET", "/api/v1/alerts?limit=1&page=2", { bearer: token.token })
    expect(v1.status).toBe(200)
    expect(v1.body.items).toEqual([alerts.body.items[1]])
    expect((await api.request("GET", "/api/v1/alerts", { bearer: u.jwt })).status).toBe(401)
  })

  it("a budget created above a threshold fires it at once", async () => {
    const u = await spender(9)
    await api.request("POST", "/api/budgets", {
      bearer: u.jwt,
      json: { scope: "account", amount: 10, period: "daily" }
    })
    const alerts = await api.request("GET", "/api/alerts", { bearer: u.jwt })
    expect(
      alerts.body.items
        .filter((a: { kind: string }) => a.kind === "threshold")
        .map((a: { threshold: number }) => a.threshold)
    ).toEqual([80, 50])
  })

  it("the routes are in /openapi.json", async () => {
    const doc = await api.request("GET", "/openapi.json")
    for (const path of [
      "/api/budgets",
      "/api/budgets/{id}",
      "/api/alerts",
      "/api/v1/alerts",
      "/api/webhooks",
      "/api/webhooks/{id}/test",
      "/api/webhooks/{id}/deliveries"
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(path)
    }
  })
})
