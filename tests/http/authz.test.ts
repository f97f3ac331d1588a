import { Jwt } from "@orw/server/Auth/Jwt"
import { DateTime, Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client, fakeKey } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>

interface Route {
  readonly method: string
  readonly path: string
  readonly json?: unknown
  /** Names a resource of its owner: another user's session gets 403 instead of their own data. */
  readonly owned?: boolean
}

let alice: { id: string; jwt: string; keyId: string; tokenId: string; token: string }
let bob: { jwt: string }
let revokedToken: string
let sessionRoutes: ReadonlyArray<Route>
const v1Routes: ReadonlyArray<Route> = [
  { method: "GET", path: "/api/v1/stats" },
  { method: "GET", path: "/api/v1/usage" },
  { method: "GET", path: "/api/v1/keys" }
]

const password = "Matrix-Passw0rd!"

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
  const a = await api.user("alice")
  const keyId = await api.addKey(a.jwt)
  const token = await api.apiToken(a.jwt)
  alice = { id: a.id, jwt: a.jwt, keyId, tokenId: token.id, token: token.token }
  bob = { jwt: (await api.user("bob")).jwt }
  const revoked = await api.apiToken(a.jwt, "revoked")
  await api.request("DELETE", `/api/tokens/${revoked.id}`, { bearer: a.jwt })
  revokedToken = revoked.token
  sessionRoutes = [
    { method: "POST", path: "/api/auth/logout" },
    { method: "GET", path: "/api/users/me" },
    {
      method: "PUT",
      path: "/api/users/me/password",
      json: { current_password: password, new_password: password, new_password_confirm: password }
    },
    { method: "DELETE", path: "/api/users/me" },
    { method: "GET", path: "/api/keys" },
    { method: "POST", path: "/api/keys", json: { name: "k", key: fakeKey() } },
    { method: "PUT", path: `/api/keys/${keyId}`, json: { name: "x" }, owned: true },
    { method: "DELETE", path: `/api/keys/${keyId}`, owned: true },
    { method: "POST", path: `/api/keys/${keyId}/sync`, owned: true },
    { method: "POST", path: "/api/tokens", json: { name: "t" } },
    { method: "GET", path: "/api/tokens" },
    { method: "DELETE", path: `/api/tokens/${token.id}`, owned: true }
  ]
})
afterAll(() => server.close())

/** A JWT signed with the server's secret, issued two days ago: past its expiry. */
const expiredJwt = () =>
  server
    .run(Effect.flatMap(Jwt, (jwt) => jwt.issue(alice.id, DateTime.unsafeMake(Date.now() - 2 * 86_400_000))))
    .then(({ token }) => Redacted.value(token))

/** Alice's JWT with one character in the middle of its signature changed. */
const tampered = () => {
  const at = alice.jwt.lastIndexOf(".") + 10
  const swapped = alice.jwt[at] === "A" ? "B" : "A"
  return `${alice.jwt.slice(0, at)}${swapped}${alice.jwt.slice(at + 1)}`
}

/** Alice's JWT claiming to be Bob: the signature no longer matches. */
const forged = async () => {
  const [header, payload, signature] = alice.jwt.split(".")
  const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"))
  const bobId = (await api.request("GET", "/api/users/me", { bearer: bob.jwt })).body.id
  const changed = Buffer.from(JSON.stringify({ ...claims, sub: bobId })).toString("base64url")
  return `${header}.${changed}.${signature}`
}

const expectAll = async (
  routes: ReadonlyArray<Route>,
  credentials: { bearer?: string; cookie?: string },
  status: number
) => {
  for (const route of routes) {
    const r = await api.request(route.method, route.path, { ...credentials, json: route.json })
    expect(`${route.method} ${route.path} -> ${r.status}`).toBe(`${route.method} ${route.path} -> ${status}`)
    expect(typeof r.body.detail).toBe("string")
  }
}

describe("authorization matrix", () => {
  it("no credentials: 401 Not authenticated everywhere", async () => {
    await expectAll([...sessionRoutes, ...v1Routes], {}, 401)
    const r = await api.request("GET", "/api/keys")
    expect(r.body).toEqual({ detail: "Not authenticated" })
  })

  it("an expired JWT: 401, as bearer and as cookie", async () => {
    const jwt = await expiredJwt()
    await expectAll([...sessionRoutes, ...v1Routes], { bearer: jwt }, 401)
    await expectAll(sessionRoutes, { cookie: `orw_session=${jwt}` }, 401)
  })

  it("a tampered or forged JWT: 401", async () => {
    await expectAll(sessionRoutes, { bearer: tampered() }, 401)
    await expectAll(sessionRoutes, { bearer: await forged() }, 401)
    await expectAll(sessionRoutes, { cookie: `orw_session=${tampered()}` }, 401)
  })

  it("garbage bearers: 401", async () => {
    for (const bearer of ["", "null", "a.b.c", "or_api_short"]) await expectAll(sessionRoutes, { bearer }, 401)
  })

  it("an API token on the JSON API: 401", async () => {
    await expectAll(sessionRoutes, { bearer: alice.token }, 401)
  })

  it("a session on the public API: 401, as bearer and as cookie", async () => {
    await expectAll(v1Routes, { bearer: alice.jwt }, 401)
    await expectAll(v1Routes, { cookie: `orw_session=${alice.jwt}` }, 401)
  })

  it("a revoked API token: 401", async () => {
    await expectAll(v1Routes, { bearer: revokedToken }, 401)
  })

  it("another user's session on Alice's resources: 403; their lists hold only their own", async () => {
    await expectAll(
      sessionRoutes.filter((r) => r.owned),
      { bearer: bob.jwt },
      403
    )
    expect((await api.request("GET", "/api/keys", { bearer: bob.jwt })).body).toEqual({ items: [], total: 0 })
    expect((await api.request("GET", "/api/tokens", { bearer: bob.jwt })).body).toEqual({ items: [] })
  })

  it("unknown ids: 404", async () => {
    const unknown = sessionRoutes
      .filter((r) => r.owned)
      .map((r) => ({ ...r, path: r.path.replace(alice.keyId, "missing").replace(alice.tokenId, "missing") }))
    await expectAll(unknown, { bearer: alice.jwt }, 404)
  })

  it("the owner still gets through after all that", async () => {
    expect((await api.request("GET", "/api/keys", { bearer: alice.jwt })).body.total).toBe(1)
    expect((await api.request("GET", "/api/v1/keys", { bearer: alice.token })).status).toBe(200)
    expect((await api.request("GET", "/api/users/me", { cookie: `orw_session=${alice.jwt}` })).status).toBe(200)
  })
})
