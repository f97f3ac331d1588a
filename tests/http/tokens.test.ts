import { SqlClient } from "@effect/sql"
import { EventStore } from "@orw/server/EventStore"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

const eventCount = Effect.flatMap(EventStore, (store) => store.head)
const usageRow = (tokenId: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ last_used_at: string }>`SELECT last_used_at FROM token_usage WHERE token_id = ${tokenId}`
  ).pipe(
    Effect.map((rows) => rows[0]?.last_used_at),
    Effect.orDie
  )

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

const TOKEN = /^or_api_[A-Za-z0-9_-]{64}$/

describe("/api/tokens", () => {
  it("POST 201 shows the token once; GET lists it without its value", async () => {
    const { jwt } = await api.user()
    const created = await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: " CI " } })
    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(["created_at", "id", "name", "token"])
    expect(created.body.name).toBe("CI")
    expect(created.body.token).toMatch(TOKEN)
    const list = await api.request("GET", "/api/tokens", { bearer: jwt })
    expect(list.status).toBe(200)
    expect(list.body.items).toEqual([
      {
        id: created.body.id,
        name: "CI",
        created_at: created.body.created_at,
        last_used_at: null,
        is_active: true,
        revoked_at: null
      }
    ])
    expect(list.text).not.toContain(created.body.token)
    expect(list.text).not.toContain((created.body.token as string).slice(7))
  })

  it("two tokens never share a value", async () => {
    const { jwt } = await api.user()
    const a = await api.apiToken(jwt)
    const b = await api.apiToken(jwt)
    expect(a.token).not.toBe(b.token)
  })

  it("a used token shows last_used_at, written at most once a minute, outside the log", async () => {
    const { jwt } = await api.user()
    const { id, token } = await api.apiToken(jwt)
    const before = await server.run(eventCount)
    expect((await api.request("GET", "/api/v1/keys", { bearer: token })).status).toBe(200)
    const afterFirst = Date.now()
    // The once-a-minute rule itself is tested under TestClock (packages/server/test/App/Tokens.test.ts).
    for (let i = 0; i < 2; i++) expect((await api.request("GET", "/api/v1/keys", { bearer: token })).status).toBe(200)
    expect(await server.run(eventCount)).toBe(before)
    const row = (await api.request("GET", "/api/tokens", { bearer: jwt })).body.items.find(
      (t: { id: string }) => t.id === id
    )
    // Written by the first request only: the later ones, within the minute, did not move it.
    expect(Date.parse(row.last_used_at)).toBeGreaterThan(afterFirst - 60_000)
    expect(Date.parse(row.last_used_at)).toBeLessThanOrEqual(afterFirst)
    expect(await server.run(usageRow(id))).toBe(row.last_used_at)
  })

  it("DELETE 204 revokes at once; again 404; unknown 404; another user's 403", async () => {
    const owner = await api.user()
    const other = await api.user()
    const { id, token } = await api.apiToken(owner.jwt)
    expect((await api.request("GET", "/api/v1/stats", { bearer: token })).status).toBe(200)
    const foreign = await api.request("DELETE", `/api/tokens/${id}`, { bearer: other.jwt })
    expect(foreign.status).toBe(403)
    expect(foreign.body).toEqual({ detail: "Not allowed to access this API token" })
    const revoked = await api.request("DELETE", `/api/tokens/${id}`, { bearer: owner.jwt })
    expect(revoked.status).toBe(204)
    const refused = await api.request("GET", "/api/v1/stats", { bearer: token })
    expect(refused.status).toBe(401)
    expect(refused.body).toEqual({ detail: "Invalid or expired token" })
    const again = await api.request("DELETE", `/api/tokens/${id}`, { bearer: owner.jwt })
    expect(again.status).toBe(404)
    expect(again.body).toEqual({ detail: "API token not found" })
    expect((await api.request("DELETE", "/api/tokens/unknown", { bearer: owner.jwt })).status).toBe(404)
    const listed = (await api.request("GET", "/api/tokens", { bearer: owner.jwt })).body.items[0]
    expect(listed).toMatchObject({ id, is_active: false })
    expect(listed.revoked_at).toMatch(/Z$/)
  })

  it("400 for an empty name; a repeated Idempotency-Key issues nothing twice", async () => {
    const { jwt } = await api.user()
    expect((await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "" } })).status).toBe(400)
    const headers = { "idempotency-key": "token-1" }
    const first = await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "t" }, headers })
    const again = await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "t" }, headers })
    expect(first.status).toBe(201)
    expect(again.status).toBe(409)
    expect(again.body.detail).toContain("Idempotency-Key")
    expect((await api.request("GET", "/api/tokens", { bearer: jwt })).body.items).toHaveLength(1)
  })
})
