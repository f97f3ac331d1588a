import * as NodeHttp from "node:http"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"
import { recordUsage } from "./support/usage.js"

/*
 * GET /api/v1/stats|usage|keys asked again while the log has not moved is answered without the router
 * (Http/AnswerCache.ts): the same body and headers, the same checks (Host, token, rate limit), counted and
 * logged. Only on SQLite (on PostgreSQL the log head does not say what a reader sees).
 */
const onSqlite = process.env.ORW_TEST_DB !== "pg"

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)

const record = (keyId: string, date: string, model: string, micros: number) => recordUsage(keyId, date, model, micros)

/** The headers that differ per request by design: the request id and the rate limit's count. */
const PER_REQUEST = new Set(["x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "date"])
const stable = (answer: Answer) =>
  Object.fromEntries([...answer.headers].filter(([name]) => !PER_REQUEST.has(name)).sort())

const cachedCount = async (url: string, route: string) => {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split("\n").find((l) => l.startsWith(`orw_http_answers_cached_total{route="${route}"}`))
  return line === undefined ? 0 : Number(line.split(" ").at(-1))
}

/** A request with a Host of our choosing (fetch sends its own). */
const withHost = (url: string, path: string, host: string, token: string) =>
  new Promise<number>((resolve, reject) => {
    const target = new URL(path, url)
    const request = NodeHttp.request(
      { host: target.hostname, port: target.port, path, headers: { host, authorization: `Bearer ${token}` } },
      (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      }
    )
    request.on("error", reject)
    request.end()
  })

describe.runIf(onSqlite)("the answer cache", () => {
  let server: TestServer
  let api: ReturnType<typeof client>
  let jwt: string
  let token: string
  let keyId: string

  beforeAll(async () => {
    server = await startServer()
    api = client(server.url)
    const user = await api.user("cache")
    jwt = user.jwt
    keyId = await api.addKey(jwt)
    token = (await api.apiToken(jwt)).token
    await server.run(Effect.zipRight(record(keyId, day(3), "m-a", 120_000), record(keyId, day(2), "m-b", 30_000)))
  })
  afterAll(() => server.close())

  it.each([
    ["/api/v1/stats", `/api/v1/stats?start_date=${day(30)}&end_date=${day(1)}`],
    ["/api/v1/usage", "/api/v1/usage?page=1&limit=10"],
    ["/api/v1/keys", "/api/v1/keys"]
  ])("%s asked again: the same body and headers, sent from the cache and counted", async (route, path) => {
    const before = await cachedCount(server.url, route)
    const first = await api.request("GET", path, { bearer: token })
    const again = await api.request("GET", path, { bearer: token })
    const third = await api.request("GET", path, { bearer: token })
    expect(first.status).toBe(200)
    expect(again.status).toBe(200)
    expect(again.text).toBe(first.text)
    expect(stable(again)).toEqual(stable(first))
    expect(third.text).toBe(first.text)
    expect(Number(third.headers.get("x-ratelimit-remaining"))).toBe(
      Number(again.headers.get("x-ratelimit-remaining")) - 1
    )
    expect(await cachedCount(server.url, route)).toBe(before + 2)
    // Logged like any answer: one access line per request id.
    const id = again.headers.get("x-request-id") ?? ""
    expect(server.logs.filter((l) => l.includes(id) && l.includes(`GET ${route} 200`))).toHaveLength(1)
  })

  it("compressed as Accept-Encoding asks, the same text once decoded", async () => {
    const path = `/api/v1/stats?start_date=${day(60)}&end_date=${day(1)}`
    const plain = await api.request("GET", path, { bearer: token })
    for (const encoding of ["br", "gzip"]) {
      const headers = { "accept-encoding": encoding }
      const first = await api.request("GET", path, { bearer: token, headers })
      const again = await api.request("GET", path, { bearer: token, headers })
      expect(again.headers.get("content-encoding")).toBe(first.headers.get("content-encoding"))
      expect(again.headers.get("vary")).toBe(first.headers.get("vary"))
      expect(again.text).toBe(plain.text)
    }
  })

  it("a CSV export is not kept: every row of a range, asked for rarely", async () => {
    const before = await cachedCount(server.url, "/api/v1/usage")
    const first = await api.request("GET", "/api/v1/usage?format=csv", { bearer: token })
    const again = await api.request("GET", "/api/v1/usage?format=csv", { bearer: token })
    expect(first.headers.get("content-type")).toContain("text/csv")
    expect(again.text).toBe(first.text)
    expect(await cachedCount(server.url, "/api/v1/usage")).toBe(before)
  })

  it("a usage change is seen by the next request: the log moved", async () => {
    const path = `/api/v1/stats?start_date=${day(30)}&end_date=${day(1)}`
    const before = await api.request("GET", path, { bearer: token })
    await api.request("GET", path, { bearer: token })
    const cached = await cachedCount(server.url, "/api/v1/stats")
    await server.run(record(keyId, day(2), "m-b", 80_000))
    const after = await api.request("GET", path, { bearer: token })
    expect(after.body.summary.total_cost).toBeCloseTo(before.body.summary.total_cost + 0.05, 6)
    expect(await cachedCount(server.url, "/api/v1/stats")).toBe(cached)
  })

  it("a revoked token is refused at once, and a wrong Host is refused, whatever was kept", async () => {
    const other = await api.apiToken(jwt, "short-lived")
    const path = "/api/v1/keys"
    expect((await api.request("GET", path, { bearer: other.token })).status).toBe(200)
    expect((await api.request("GET", path, { bearer: other.token })).status).toBe(200)
    expect(await withHost(server.url, path, "evil.example", other.token)).toBe(400)
    expect((await api.request("DELETE", `/api/tokens/${other.id}`, { bearer: jwt })).status).toBe(204)
    expect((await api.request("GET", path, { bearer: other.token })).status).toBe(401)
  })
})

describe.runIf(onSqlite)("the answer cache under a rate limit", () => {
  let server: TestServer
  afterAll(() => server.close())

  it("a kept answer counts toward the token's limit, and past it the router's 429 comes back", async () => {
    server = await startServer({ rateLimitRequests: 3, rateLimitWindowSeconds: 300 })
    const api = client(server.url)
    const { jwt } = await api.user("limited")
    const { token } = await api.apiToken(jwt)
    const cached = await cachedCount(server.url, "/api/v1/keys")
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await api.request("GET", "/api/v1/keys", { bearer: token }))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(answers.map((a) => a.headers.get("x-ratelimit-remaining"))).toEqual(["2", "1", "0", "0"])
    expect(answers[3]?.body).toEqual({ detail: "Rate limit exceeded" })
    expect(answers[3]?.headers.get("retry-after")).not.toBeNull()
    // The second and third came from the cache; the fourth went on to the router, which refused it.
    expect(await cachedCount(server.url, "/api/v1/keys")).toBe(cached + 2)
  })
})
