import { EventStore } from "@orw/server/EventStore"
import { Fault } from "@orw/server/OpenRouter/Simulator"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

/* Limits written back (openrouter-api.md, item 6) and the `limit reached` status, through the simulator. */

let server: TestServer
let api: ReturnType<typeof client>
beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

const setup = async (withManagement: boolean) => {
  const { jwt } = await api.user("limits")
  const key = server.sim.addKey()
  if (withManagement) {
    const id = await api.addKey(jwt, server.sim.addKey({ isManagementKey: true }), "management")
    await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
  }
  const id = await api.addKey(jwt, key, "capped")
  await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
  return { jwt, key, id }
}

describe("PUT /api/keys/{id}/limit", () => {
  it("writes the limit to OpenRouter, records the change, and the next /key snapshot confirms it", async () => {
    const { jwt, key, id } = await setup(true)
    const r = await api.request("PUT", `/api/keys/${id}/limit`, {
      bearer: jwt,
      json: { limit: 12.5, limit_reset: "weekly" }
    })
    expect(r.status).toBe(200)
    // Upstream holds it now ...
    expect([server.sim.key(key).limit, server.sim.key(key).limit_reset]).toEqual([12.5, "weekly"])
    // ... and the row shows what /key said afterwards: the limit with its reset period and what is left.
    expect(r.body).toMatchObject({ limit: 12.5, limit_reset: "weekly", limit_remaining: 12.5, status: "active" })
    // The change is an event of the key's stream.
    const recorded = await server.run(
      Effect.map(
        Effect.flatMap(EventStore, (store) => store.readStream(`key-${id}`, 0)),
        (s) => s.events.map((e) => e.event._tag)
      )
    )
    expect(recorded).toContain("KeyLimitSet")
    const patches = server.sim.requests.filter((q) => q.method === "PATCH")
    expect(patches.map((q) => q.endpoint)).toEqual([`/keys/${server.sim.key(key).hash}`])
    // Removing the limit: null, never resets.
    const cleared = await api.request("PUT", `/api/keys/${id}/limit`, {
      bearer: jwt,
      json: { limit: null, limit_reset: null }
    })
    expect(cleared.body).toMatchObject({ limit: null, limit_reset: null, limit_remaining: null })
  })

  it("400 without a management key, and OpenRouter is not called", async () => {
    const { jwt, id } = await setup(false)
    const before = server.sim.requests.filter((q) => q.method === "PATCH").length
    const r = await api.request("PUT", `/api/keys/${id}/limit`, { bearer: jwt, json: { limit: 5, limit_reset: null } })
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ detail: "Add an active OpenRouter management key to change limits from here" })
    expect(server.sim.requests.filter((q) => q.method === "PATCH").length).toBe(before)
  })

  it("502 with OpenRouter's status in detail when it fails the change; nothing is recorded", async () => {
    const { jwt, key, id } = await setup(true)
    server.sim.fail("/keys/{hash}", Fault.serverError(), 1)
    const r = await api.request("PUT", `/api/keys/${id}/limit`, {
      bearer: jwt,
      json: { limit: 3, limit_reset: "daily" }
    })
    expect(r.status).toBe(502)
    expect(r.body.detail).toContain("OpenRouter refused the change")
    expect(r.body.detail).toContain("HTTP 500")
    // The message names the write itself, not a "GET".
    expect(r.body.detail).toMatch(/PATCH \/keys\/[0-9a-f]{64}: HTTP 500/)
    expect(r.text).not.toContain(key.slice(9))
    expect(server.sim.key(key).limit).toBeNull()
    const row = (await api.request("GET", "/api/keys", { bearer: jwt })).body.items.find(
      (k: { id: string }) => k.id === id
    )
    expect(row.limit).toBeNull()
  })

  it("a bad body is refused with detail: negative limit, unknown reset period", async () => {
    const { jwt, id } = await setup(true)
    for (const json of [{ limit: -1, limit_reset: null }, { limit: 1, limit_reset: "yearly" }, { limit: 1 }]) {
      const r = await api.request("PUT", `/api/keys/${id}/limit`, { bearer: jwt, json })
      expect([400, 422]).toContain(r.status)
      expect(typeof r.body.detail).toBe("string")
    }
  })
})

describe("a key whose limit_remaining is 0", () => {
  it("has status `limit reached` in the API, with its limit and reset period", async () => {
    const { jwt } = await api.user("spent")
    const key = server.sim.addKey({ limit: 2, limitReset: "daily" })
    server.sim.addUsage(key, 2)
    const id = await api.addKey(jwt, key, "spent")
    const synced = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(synced.body.key).toMatchObject({
      status: "limit reached",
      limit: 2,
      limit_remaining: 0,
      limit_reset: "daily"
    })
  })
})

describe("a key past its limit (the simulator behaves like OpenRouter)", () => {
  it("gets 402 from POST /chat/completions and stops spending; /key says 0 left; we show `limit reached`", async () => {
    const { jwt } = await api.user("spender")
    const key = server.sim.addKey({ limit: 0.001, limitReset: "daily" })
    const id = await api.addKey(jwt, key, "capped")
    // The baseline before any spend: everything it spends below is recorded.
    await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    // Each call: 100 prompt + 50 completion tokens of GPT-4.1 = $0.0006.
    const complete = async () => {
      const r = await fetch(`${server.simUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "openai/gpt-4.1",
          messages: [{ role: "user", content: "x".repeat(400) }],
          max_tokens: 50
        })
      })
      return { status: r.status, body: (await r.json()) as { error?: { code: number; message: string } } }
    }
    const first = await complete()
    expect(first.status).toBe(200)
    const synced = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(synced.body.key).toMatchObject({ status: "active", usage_daily: 0.0006, limit_remaining: 0.0004 })
    // The second call takes what the limit leaves; the third is refused and spends nothing.
    expect((await complete()).status).toBe(200)
    const refused = await complete()
    expect(refused.status).toBe(402)
    expect(refused.body.error?.code).toBe(402)
    expect(refused.body.error?.message).toMatch(/limit/i)
    const spent = server.sim.key(key).activity.reduce((n, r) => n + r.usage, 0)
    expect(spent).toBe(1_000_000) // $0.001 in nano-dollars: exactly the limit
    expect((await complete()).status).toBe(402)
    expect(server.sim.key(key).activity.reduce((n, r) => n + r.usage, 0)).toBe(spent)

    const after = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(after.body.key).toMatchObject({ status: "limit reached", limit_remaining: 0, usage_daily: 0.001 })
    const listed = await api.request("GET", "/api/keys", { bearer: jwt })
    expect(listed.body.items.find((k: { id: string }) => k.id === id)).toMatchObject({
      status: "limit reached",
      spend_today: 0.001
    })
    // Its spend stopped growing: the next sync records nothing new.
    expect((await complete()).status).toBe(402)
    const again = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(again.body.recorded).toEqual([])
  })

  it("management keys cannot call completions (403)", async () => {
    const management = server.sim.addKey({ isManagementKey: true })
    const r = await fetch(`${server.simUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${management}` },
      body: "{}"
    })
    expect(r.status).toBe(403)
  })
})
