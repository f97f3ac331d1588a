import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

/* `GET /keys` is read on every page (offset by 100) for the hash mapping (issue 8, point 7). */

let server: TestServer
let api: ReturnType<typeof client>
beforeAll(async () => {
  // 300 analytics calls (a history import and today's hourly figures per key): pacing is tested elsewhere.
  server = await startServer(
    { maxApiKeysPerUser: 200 },
    { simulator: { analyticsPerMinute: 10_000 }, sync: { analyticsPerMinute: 10_000 } }
  )
  api = client(server.url)
})
afterAll(() => server.close())

const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)

describe("a user with 150 keys upstream", () => {
  it("maps every one of them to its hash, past the first page, and records its activity", async () => {
    const { jwt } = await api.user("many")
    const management = server.sim.addKey({ isManagementKey: true })
    const upstream = Array.from({ length: 150 }, (_, i) => server.sim.addKey({ name: `key ${i + 1}` }))
    upstream.forEach((key, i) => {
      server.sim.addUsage(key, (i + 1) / 1000, { date: yesterday(), model: "openai/gpt-4.1", requests: i + 1 })
    })
    const managementId = await api.addKey(jwt, management, "management")
    // Its first sync tells it is a management key (GET /key says so).
    await api.request("POST", `/api/keys/${managementId}/sync`, { bearer: jwt })
    const ids: Array<string> = []
    for (const [i, key] of upstream.entries()) ids.push(await api.addKey(jwt, key, `key ${i + 1}`))
    for (const id of ids) {
      const synced = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
      expect(synced.body.outcome).toBe("ok")
    }
    // Every page was read: offsets 0 and 100.
    const offsets = new Set(server.sim.requests.filter((r) => r.endpoint === "/keys").map((r) => r.query.offset ?? "0"))
    expect([...offsets].sort()).toEqual(["0", "100"])
    // Each key got its own activity, by its own hash: key n spent $n/1000 in n requests yesterday.
    const rows = (await api.request("GET", "/api/keys", { bearer: jwt })).body.items as Array<{
      id: string
      spend_total: number
    }>
    const mapped = ids.filter((id, i) => rows.find((r) => r.id === id)?.spend_total === (i + 1) / 1000)
    expect(mapped).toHaveLength(150)
    const hashes = new Set(
      server.sim.requests.filter((r) => r.endpoint === "/activity").map((r) => r.query.api_key_hash)
    )
    expect(hashes.size).toBe(150)
  })
})
