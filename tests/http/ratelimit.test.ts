import { UserCommands, UserId } from "@orw/domain"
import { Jwt } from "@orw/server/Auth/Jwt"
import { Passwords } from "@orw/server/Auth/Passwords"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Redacted } from "effect"

import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

const AUTH_LIMIT = 3
const API_LIMIT = 4
const API_WINDOW = 120

/** A user registered through the dispatcher (the HTTP route is rate limited here) with a session. */
const registerAndLogin = () =>
  server.run(
    Effect.gen(function* () {
      const userId = UserId.make(crypto.randomUUID())
      const passwordHash = yield* (yield* Passwords).hash(Redacted.make("Unused-Passw0rd!"))
      const at = yield* DateTime.now
      yield* (yield* Dispatcher).dispatch(
        new UserCommands.RegisterUser({ userId, email: `${userId}@example.com`, passwordHash, at }),
        { metadata: { actor: userId, source: "cli", correlationId: "test", causationId: null, requestId: null } }
      )
      const { token } = yield* (yield* Jwt).issue(userId, yield* DateTime.now)
      return { jwt: Redacted.value(token) }
    })
  )

const mintToken = async (jwt: string) => (await api.apiToken(jwt)).token

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer({
    authRateLimitPerMinute: AUTH_LIMIT,
    rateLimitRequests: API_LIMIT,
    rateLimitWindowSeconds: API_WINDOW
  })
  api = client(server.url)
})
afterAll(() => server.close())

const limitHeaders = (r: Answer) => ({
  limit: Number(r.headers.get("x-ratelimit-limit")),
  remaining: Number(r.headers.get("x-ratelimit-remaining")),
  reset: Number(r.headers.get("x-ratelimit-reset"))
})

describe("login and register: AUTH_RATE_LIMIT_PER_MINUTE per client IP", () => {
  it("the request after the limit is 429 with Retry-After and X-RateLimit-*", async () => {
    const attempts = []
    for (let i = 0; i <= AUTH_LIMIT; i++) {
      attempts.push(
        await api.request("POST", "/api/auth/login", {
          json: { email: "nobody@example.com", password: "Whatever-1!x" }
        })
      )
    }
    expect(attempts.map((a) => a.status)).toEqual([...Array(AUTH_LIMIT).fill(401), 429])
    expect(attempts.map((a) => limitHeaders(a).remaining)).toEqual([2, 1, 0, 0])
    const refused = attempts[AUTH_LIMIT]!
    expect(refused.body).toEqual({ detail: "Too many attempts, try again later" })
    const retryAfter = Number(refused.headers.get("retry-after"))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(limitHeaders(refused)).toEqual({ limit: AUTH_LIMIT, remaining: 0, reset: retryAfter })
    expect(refused.headers.get("x-frame-options")).toBe("DENY")
  })

  it("register is counted on its own, per IP", async () => {
    const answers = []
    for (let i = 0; i <= AUTH_LIMIT; i++) {
      answers.push(await api.request("POST", "/api/auth/register", { json: { email: `r${i}@example.com` } }))
    }
    expect(answers.map((r) => r.status)).toEqual([...Array(AUTH_LIMIT).fill(422), 429])
    // Issue 11: the registration page tells a newcomer when to try again, from this header.
    const retryAfter = Number(answers[AUTH_LIMIT]!.headers.get("retry-after"))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(answers[AUTH_LIMIT]!.headers.get("x-ratelimit-reset")).toBe(String(retryAfter))
  })
})

describe("public API: RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW per token", () => {
  it("X-RateLimit-* on every v1 response; 429 with Retry-After past the limit; other tokens unaffected", async () => {
    // The auth limiter allows AUTH_LIMIT logins a minute per IP: make the users through the log instead.
    const { jwt } = await registerAndLogin()
    const first = await mintToken(jwt)
    const second = await mintToken(jwt)
    const answers = []
    for (let i = 0; i <= API_LIMIT; i++) answers.push(await api.request("GET", "/api/v1/stats", { bearer: first }))
    expect(answers.map((a) => a.status)).toEqual([...Array(API_LIMIT).fill(200), 429])
    for (const [i, a] of answers.entries()) {
      const h = limitHeaders(a)
      expect(h.limit).toBe(API_LIMIT)
      expect(h.remaining).toBe(Math.max(0, API_LIMIT - i - 1))
      expect(h.reset).toBeGreaterThan(API_WINDOW - 10)
      expect(h.reset).toBeLessThanOrEqual(API_WINDOW)
    }
    const refused = answers[API_LIMIT]!
    expect(refused.body).toEqual({ detail: "Rate limit exceeded" })
    expect(Number(refused.headers.get("retry-after"))).toBe(limitHeaders(refused).reset)
    const other = await api.request("GET", "/api/v1/keys", { bearer: second })
    expect(other.status).toBe(200)
    expect(limitHeaders(other).remaining).toBe(API_LIMIT - 1)
  })

  it("a 401 on the public API carries the headers too", async () => {
    const r = await api.request("GET", "/api/v1/usage", { bearer: "or_api_nope" })
    expect(r.status).toBe(401)
    expect(limitHeaders(r).limit).toBe(API_LIMIT)
  })
})
