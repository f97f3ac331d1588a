import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client, fakeKey } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

const MAX_KEYS = 3

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer({ maxApiKeysPerUser: MAX_KEYS })
  api = client(server.url)
})
afterAll(() => server.close())

const maskOf = (key: string) => `sk-or-v1-${key.slice(9, 12)}...${key.slice(-3)}`

const ROW_FIELDS = [
  "created_at",
  "id",
  "is_active",
  "is_management_key",
  "label",
  // Issue 11: "never synced" vs "last attempt failed at …".
  "last_attempt_at",
  // The daily reconciliation's latest finding (issue 8, item 7): null until one is found.
  "last_discrepancy",
  "last_error",
  "last_synced_at",
  "last_used_at",
  "limit",
  "limit_remaining",
  "limit_reset",
  "name",
  // Recorded figures (issue 8): the one total every screen shows, beside OpenRouter's own usage_* counters.
  "requests_today",
  "spend_today",
  "spend_total",
  "status",
  "usage_daily",
  "usage_monthly",
  "usage_total",
  "usage_weekly"
]

describe("/api/keys", () => {
  it("POST 201 shows the masked label only; GET lists the row with nulls until the first sync", async () => {
    const { jwt } = await api.user()
    const key = fakeKey()
    const added = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: " Production ", key } })
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ name: "Production", is_active: true, label: maskOf(key), status: "active" })
    expect(added.text).not.toContain(key.slice(9))
    const list = await api.request("GET", "/api/keys", { bearer: jwt })
    expect(list.status).toBe(200)
    expect(list.body.total).toBe(1)
    const [row] = list.body.items
    expect(Object.keys(row).sort()).toEqual(ROW_FIELDS)
    expect(row).toMatchObject({
      id: added.body.id,
      last_synced_at: null,
      last_attempt_at: null,
      last_discrepancy: null,
      limit: null,
      usage_total: null,
      is_management_key: null,
      spend_today: 0,
      spend_total: 0
    })
  })

  it.each([
    ["not a key"],
    [`sk-or-v1-${"A".repeat(64)}`],
    [`sk-or-v1-${"a".repeat(63)}`],
    [`sk-or-v2-${"a".repeat(64)}`],
    [`sk-or-v1-${"a".repeat(65)}`]
  ])("400 Invalid API key format for %s", async (key) => {
    const { jwt } = await api.user()
    const r = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "k", key } })
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ detail: "Invalid API key format" })
    expect((await api.request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(0)
  })

  it("400 for an empty or too long name", async () => {
    const { jwt } = await api.user()
    for (const name of ["   ", "n".repeat(101)]) {
      const r = await api.request("POST", "/api/keys", { bearer: jwt, json: { name, key: fakeKey() } })
      expect(r.status).toBe(400)
      expect(r.body).toEqual({ detail: "Name must be 1 to 100 characters" })
    }
  })

  it("MAX_API_KEYS_PER_USER: inactive and invalid keys count, deleted keys do not", async () => {
    const { jwt } = await api.user()
    const simKey = server.sim.addKey()
    const invalid = await api.addKey(jwt, simKey, "invalid")
    server.sim.key(simKey).disabled = true
    expect((await api.request("POST", `/api/keys/${invalid}/sync`, { bearer: jwt })).body.key.status).toBe("invalid")
    const inactive = await api.addKey(jwt, fakeKey(), "inactive")
    await api.request("PUT", `/api/keys/${inactive}`, { bearer: jwt, json: { is_active: false } })
    const third = await api.addKey(jwt)
    const over = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "over", key: fakeKey() } })
    expect(over.status).toBe(400)
    expect(over.body).toEqual({ detail: `Maximum number of API keys reached (${MAX_KEYS})` })
    expect((await api.request("DELETE", `/api/keys/${third}`, { bearer: jwt })).status).toBe(204)
    expect((await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "ok", key: fakeKey() } })).status).toBe(
      201
    )
  })

  it("concurrent adds over the limit: the losers get the business answer, not 409", async () => {
    const { jwt } = await api.user()
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.request("POST", "/api/keys", { bearer: jwt, json: { name: `k${i}`, key: fakeKey() } })
      )
    )
    expect(answers.filter((a) => a.status === 201)).toHaveLength(MAX_KEYS)
    expect(answers.filter((a) => a.status === 400)).toHaveLength(8 - MAX_KEYS)
  })

  it("PUT renames and (de)activates; 404 unknown; 403 another user's; DELETE 204 then 404", async () => {
    const owner = await api.user()
    const other = await api.user()
    const id = await api.addKey(owner.jwt)
    const renamed = await api.request("PUT", `/api/keys/${id}`, {
      bearer: owner.jwt,
      json: { name: "Renamed", is_active: false }
    })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toMatchObject({ id, name: "Renamed", is_active: false, status: "inactive" })
    const unchanged = await api.request("PUT", `/api/keys/${id}`, { bearer: owner.jwt, json: {} })
    expect(unchanged.body).toMatchObject({ name: "Renamed", is_active: false })
    expect(
      (await api.request("PUT", `/api/keys/${id}`, { bearer: owner.jwt, json: { is_active: "yes" } })).status
    ).toBe(422)
    const missing = await api.request("PUT", "/api/keys/does-not-exist", { bearer: owner.jwt, json: { name: "x" } })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ detail: "API key not found" })
    const forbidden = await api.request("PUT", `/api/keys/${id}`, { bearer: other.jwt, json: { name: "mine" } })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).toEqual({ detail: "Not allowed to access this API key" })
    expect((await api.request("DELETE", `/api/keys/${id}`, { bearer: other.jwt })).status).toBe(403)
    expect((await api.request("DELETE", `/api/keys/${id}`, { bearer: owner.jwt })).status).toBe(204)
    expect((await api.request("DELETE", `/api/keys/${id}`, { bearer: owner.jwt })).status).toBe(404)
    expect((await api.request("GET", "/api/keys", { bearer: owner.jwt })).body.total).toBe(0)
  })

  it("commands carry metadata: actor, source web, correlation id and the request id of X-Request-Id", async () => {
    const { id: userId, jwt } = await api.user()
    const added = await api.request("POST", "/api/keys", {
      bearer: jwt,
      json: { name: "k", key: fakeKey() },
      headers: { "x-correlation-id": "flow-42" }
    })
    const metadata = await server.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ metadata: string }>`SELECT metadata FROM events WHERE stream_id = ${`key-${added.body.id}`}`
      ).pipe(Effect.orDie)
    )
    expect(metadata.map((row) => JSON.parse(row.metadata))).toEqual([
      {
        actor: userId,
        source: "web",
        correlationId: "flow-42",
        causationId: null,
        requestId: added.headers.get("x-request-id")
      }
    ])
  })

  it("Idempotency-Key: a repeat answers with the same key and stores nothing twice", async () => {
    const { jwt } = await api.user()
    const headers = { "idempotency-key": "add-once" }
    const first = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "k", key: fakeKey() }, headers })
    const again = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "k", key: fakeKey() }, headers })
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.body.id).toBe(first.body.id)
    expect((await api.request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(1)
    // Namespaced by user: the same header from someone else is a new request.
    const other = await api.user()
    const theirs = await api.request("POST", "/api/keys", {
      bearer: other.jwt,
      json: { name: "k", key: fakeKey() },
      headers
    })
    expect(theirs.status).toBe(201)
    expect(theirs.body.id).not.toBe(first.body.id)
  })
})

describe("POST /api/keys/{id}/sync", () => {
  it("200 with the row filled from upstream and what was recorded", async () => {
    const { jwt } = await api.user()
    const key = server.sim.addKey({ limit: 50, usage: { total: 12.5, daily: 0.25, weekly: 3, monthly: 7.75 } })
    const id = await api.addKey(jwt, key, "synced")
    const r = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(r.status).toBe(200)
    expect(r.body.outcome).toBe("ok")
    expect(r.body.error).toBeNull()
    expect(r.body.key).toMatchObject({
      id,
      status: "active",
      label: maskOf(key),
      is_management_key: false,
      limit: 50,
      limit_remaining: 37.5,
      usage_total: 12.5,
      usage_daily: 0.25,
      usage_weekly: 3,
      usage_monthly: 7.75,
      last_error: null
    })
    expect(r.body.key.last_synced_at).toMatch(/Z$/)
    expect(r.body.key.last_attempt_at).toBe(r.body.key.last_synced_at)
    expect(r.body.recorded).toEqual([{ type: "KeyStatusRecorded", usage_total: 12.5, limit_remaining: 37.5 }])
    server.sim.addUsage(key, 1.000001)
    const again = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(again.body.recorded.map((e: { type: string }) => e.type)).toEqual(["KeyStatusRecorded", "UsageRecorded"])
    expect(again.body.recorded[1]).toMatchObject({ model: "unattributed", cost: 1.000001, requests: 0 })
    expect(again.body.key.usage_total).toBe(13.500001)
    const quiet = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(quiet.body.recorded).toEqual([])
  })

  it("a sync's events carry the request's metadata: actor, source, correlation id and request id", async () => {
    const { id: userId, jwt } = await api.user()
    const key = server.sim.addKey({ usage: { total: 1, daily: 0, weekly: 0, monthly: 0 } })
    const id = await api.addKey(jwt, key, "traced")
    const r = await api.request("POST", `/api/keys/${id}/sync`, {
      bearer: jwt,
      headers: { "x-correlation-id": "sync-flow-7" }
    })
    expect(r.status).toBe(200)
    const metadata = await server.run(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ type: string; metadata: string }>`SELECT type, metadata FROM events
          WHERE stream_id = ${`key-${id}`} AND type = 'KeyStatusRecorded'`
      ).pipe(Effect.orDie)
    )
    expect(metadata.map((row) => [row.type, JSON.parse(row.metadata)])).toEqual([
      [
        "KeyStatusRecorded",
        {
          actor: userId,
          source: "web",
          correlationId: "sync-flow-7",
          causationId: null,
          requestId: r.headers.get("x-request-id")
        }
      ]
    ])
  })

  it("200 with status invalid when upstream says 401", async () => {
    const { jwt } = await api.user()
    const key = server.sim.addKey({ disabled: true })
    const id = await api.addKey(jwt, key)
    const r = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(r.status).toBe(200)
    expect(r.body.outcome).toBe("invalid")
    expect(r.body.key.status).toBe("invalid")
    expect(r.body.key.last_error).toEqual(expect.any(String))
    // Issue 11: the page says when the failed attempt was, and that no sync ever succeeded.
    expect(r.body.key.last_attempt_at).toMatch(/Z$/)
    expect(r.body.key.last_synced_at).toBeNull()
    expect(r.body.recorded).toEqual([{ type: "KeyMarkedInvalid" }])
    expect(r.text).not.toContain(key.slice(9))
  })

  it("400 for an inactive key: not synced, OpenRouter not called; 200 once re-activated", async () => {
    const { jwt } = await api.user()
    const id = await api.addKey(jwt, server.sim.addKey({ usage: { total: 2 } }), "switched off")
    await api.request("PUT", `/api/keys/${id}`, { bearer: jwt, json: { is_active: false } })
    const calls = server.sim.count("/key")
    const refused = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(refused.status).toBe(400)
    expect(refused.body).toEqual({ detail: "API key is inactive: activate it to sync" })
    expect(server.sim.count("/key")).toBe(calls)
    const row = (await api.request("GET", "/api/keys", { bearer: jwt })).body.items[0]
    expect(row).toMatchObject({ id, status: "inactive", last_synced_at: null, usage_total: null })
    await api.request("PUT", `/api/keys/${id}`, { bearer: jwt, json: { is_active: true } })
    const synced = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(synced.status).toBe(200)
    expect(synced.body.key).toMatchObject({ id, status: "active", usage_total: 2 })
  })

  it("404 unknown key, 403 another user's", async () => {
    const owner = await api.user()
    const other = await api.user()
    const id = await api.addKey(owner.jwt, server.sim.addKey())
    const calls = server.sim.count("/key")
    expect((await api.request("POST", "/api/keys/nope/sync", { bearer: owner.jwt })).status).toBe(404)
    const r = await api.request("POST", `/api/keys/${id}/sync`, { bearer: other.jwt })
    expect(r.status).toBe(403)
    expect(r.body).toEqual({ detail: "Not allowed to access this API key" })
    expect(server.sim.count("/key")).toBe(calls)
  })
})

describe("the same OpenRouter key twice", () => {
  it("one user: refused with 400 and a clear detail under another name; allowed again once deleted", async () => {
    const { jwt } = await api.user("dup")
    const key = fakeKey()
    const first = await api.addKey(jwt, key, "Production")
    const again = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "Other name", key: ` ${key} ` } })
    expect(again.status).toBe(400)
    expect(again.body).toEqual({ detail: "This OpenRouter key is already stored in your account" })
    expect((await api.request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(1)
    await api.request("DELETE", `/api/keys/${first}`, { bearer: jwt })
    const readded = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: "Back", key } })
    expect(readded.status).toBe(201)
  })

  it("racing adds of the same key by one user: exactly one 201, the others 400", async () => {
    const { jwt } = await api.user("race")
    const key = fakeKey()
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.request("POST", "/api/keys", { bearer: jwt, json: { name: `copy ${i}`, key } })
      )
    )
    expect(answers.map((a) => a.status).sort()).toEqual([201, 400, 400, 400, 400, 400])
    expect(answers.filter((a) => a.status === 400).map((a) => a.body.detail)).toEqual(
      Array(5).fill("This OpenRouter key is already stored in your account")
    )
    expect((await api.request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(1)
  })

  it("two users: each stores it and sees it; figures are per user", async () => {
    const key = server.sim.addKey()
    const alice = await api.user("alice-shared")
    const bob = await api.user("bob-shared")
    const a = await api.addKey(alice.jwt, key, "shared")
    const b = await api.addKey(bob.jwt, key, "shared")
    for (const [jwt, id] of [
      [alice.jwt, a],
      [bob.jwt, b]
    ] as const) {
      await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    }
    server.sim.addUsage(key, 0.75)
    await api.request("POST", `/api/keys/${a}/sync`, { bearer: alice.jwt })
    const rowOf = async (jwt: string) => (await api.request("GET", "/api/keys", { bearer: jwt })).body.items[0]
    // Alice synced after the spend, Bob not yet: each user's figures are their own recording.
    expect((await rowOf(alice.jwt)).spend_today).toBe(0.75)
    expect((await rowOf(bob.jwt)).spend_today).toBe(0)
    await api.request("POST", `/api/keys/${b}/sync`, { bearer: bob.jwt })
    expect((await rowOf(bob.jwt)).spend_today).toBe(0.75)
  })
})
