import { UserId } from "@orw/domain"
import { WebRpcs } from "@orw/domain/Rpc"
import { Jwt } from "@orw/server/Auth/Jwt"
import { DateTime, Duration, Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postRpc } from "../e2e/support/rpc.js"
import { client } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"
import { apiRoutes, fillPath } from "./support/state.js"

/*
 * The authorization matrix, generated: every route of the OpenAPI reflection and every RPC of the RpcGroup,
 * times every kind of bad credential, so a route added later is covered without editing this file.
 */

let server: TestServer
let api: ReturnType<typeof client>
type Who = {
  id: string
  email: string
  jwt: string
  token: string
  tokenId: string
  keyId: string
  keyName: string
  budgetId: string
  webhookId: string
}
let alice: Who
let bob: Who
const bad: Record<string, { session: string; apiToken: string }> = {}

const make = async (prefix: string): Promise<Who> => {
  const u = await api.user(prefix)
  const keyName = `${prefix}-key-${u.id.slice(0, 8)}`
  const keyId = await api.addKey(u.jwt, undefined, keyName)
  const t = await api.apiToken(u.jwt, `${prefix}-token`)
  const budget = await api.request("POST", "/api/budgets", {
    bearer: u.jwt,
    json: { scope: "key", key_id: keyId, amount: 5, period: "monthly" }
  })
  const hook = await api.request("POST", "/api/webhooks", {
    bearer: u.jwt,
    json: { url: `https://hooks.example.com/${prefix}`, format: "generic" }
  })
  expect([budget.status, hook.status]).toEqual([201, 201])
  return {
    id: u.id,
    email: u.email,
    jwt: u.jwt,
    token: t.token,
    tokenId: t.id,
    keyId,
    keyName,
    budgetId: budget.body.id,
    webhookId: hook.body.id
  }
}

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
  alice = await make("alice")
  bob = await make("bob")
  const victim = await api.user("victim")
  const issued = (hoursAgo: number) =>
    server.run(
      Effect.gen(function* () {
        const now = DateTime.subtractDuration(yield* DateTime.now, Duration.hours(hoursAgo))
        return Redacted.value((yield* (yield* Jwt).issue(UserId.make(victim.id), now)).token)
      })
    )
  const flip = (s: string) => `${s.slice(0, -2)}${s.at(-2) === "A" ? "B" : "A"}${s.at(-1)}`
  // Logged out: the JWT of a session ended by logout; revoked: a token revoked, a session ended by a password change.
  const loggedOut = (
    await api.request("POST", "/api/auth/login", { json: { email: victim.email, password: victim.password } })
  ).body.access_token as string
  await api.request("POST", "/api/auth/logout", { bearer: loggedOut })
  const revokedToken = await api.apiToken(victim.jwt, "revoked")
  await api.request("DELETE", `/api/tokens/${revokedToken.id}`, { bearer: victim.jwt })
  const beforeChange = (
    await api.request("POST", "/api/auth/login", { json: { email: victim.email, password: victim.password } })
  ).body.access_token as string
  const next = "Changed-Passw0rd!!"
  const changed = await api.request("PUT", "/api/users/me/password", {
    bearer: victim.jwt,
    json: { current_password: victim.password, new_password: next, new_password_confirm: next }
  })
  expect(changed.status).toBe(200)
  const victimToken = await api.apiToken(changed.body.access_token, "valid")
  bad.none = { session: "", apiToken: "" }
  bad.expired = { session: await issued(48), apiToken: await issued(48) }
  bad.tampered = { session: flip(alice.jwt), apiToken: flip(alice.token) }
  bad.revoked = { session: beforeChange, apiToken: revokedToken.token }
  bad.loggedOut = { session: loggedOut, apiToken: loggedOut }
  // The other kind: an API token where a session is wanted, a session where an API token is.
  bad.wrongKind = { session: victimToken.token, apiToken: changed.body.access_token }
})
afterAll(() => server.close())

const routes = apiRoutes().filter((r) => r.auth !== "none")
/**
 * A body each guarded route accepts, so that a refusal is the authorization's, not the schema's: a route not
 * listed gets `{name}` (names are what most bodies hold).
 */
const BODIES: Record<string, unknown> = {
  "POST /api/budgets": { scope: "account", amount: 5, period: "weekly" },
  "PUT /api/budgets/:id": { amount: 6 },
  "POST /api/webhooks": { url: "https://hooks.example.com/matrix", format: "generic" },
  "PUT /api/keys/:id/limit": { limit: 10, limit_reset: "monthly" }
}
const body = (method: string, path?: string) =>
  method === "GET" || method === "DELETE" ? undefined : (BODIES[`${method} ${path ?? ""}`] ?? { name: "matrix" })

describe("authorization matrix: the JSON and v1 API", () => {
  it("the matrix covers every guarded route of the OpenAPI document", () => {
    expect(routes.length).toBeGreaterThanOrEqual(14)
    expect(new Set(routes.map((r) => r.auth))).toEqual(new Set(["session", "token"]))
  })

  for (const kind of ["none", "expired", "tampered", "revoked", "loggedOut", "wrongKind"]) {
    it(`${kind}: every guarded route answers 401 {detail}, as bearer and as cookie`, async () => {
      for (const route of routes) {
        const credential = bad[kind]?.[route.auth === "session" ? "session" : "apiToken"] ?? ""
        const path = fillPath(route, () => alice.keyId)
        const ways =
          route.auth === "session" && credential !== ""
            ? [{ bearer: credential }, { cookie: `orw_session=${credential}`, headers: { origin: server.url } }]
            : [credential === "" ? {} : { bearer: credential }]
        for (const way of ways) {
          const payload = body(route.method, route.path)
          const r = await api.request(route.method, path, { ...way, ...(payload ? { json: payload } : {}) })
          expect(r.status, `${kind} ${route.method} ${path} ${JSON.stringify(way).slice(0, 30)}`).toBe(401)
          expect(typeof r.body.detail).toBe("string")
        }
      }
    })
  }

  it("another user's: every route with an id of Alice's answers 403/404 to Bob; no answer to Bob has Alice's data", async () => {
    const alices = [alice.id, alice.email, alice.keyId, alice.keyName, alice.tokenId, alice.budgetId, alice.webhookId]
    // Logging out would end Bob's session for the rest of the matrix (the logout itself is in the rows above).
    for (const route of routes.filter((r) => r.name !== "logout")) {
      const credential = route.auth === "session" ? bob.jwt : bob.token
      const ids = [alice.keyId, alice.tokenId, alice.budgetId, alice.webhookId]
      for (const id of route.params.length > 0 ? ids : [""]) {
        const path = fillPath(route, () => id)
        const payload = body(route.method, route.path)
        const r = await api.request(route.method, path, { bearer: credential, ...(payload ? { json: payload } : {}) })
        if (route.params.length > 0) expect([403, 404], `${route.method} ${path}`).toContain(r.status)
        else expect(r.status, `${route.method} ${path}`).toBeLessThan(500)
        for (const secret of alices) expect(r.text, `${route.method} ${path}`).not.toContain(secret)
      }
    }
    // Alice's key and token are still hers, unchanged.
    const keys = await api.request("GET", "/api/keys", { bearer: alice.jwt })
    expect(keys.body.items.map((k: { id: string; name: string }) => [k.id, k.name])).toEqual([
      [alice.keyId, alice.keyName]
    ])
    expect((await api.request("GET", "/api/v1/keys", { bearer: alice.token })).status).toBe(200)
  })
})

describe("authorization matrix: the web RPC", () => {
  const tags = [...WebRpcs.requests.keys()]
  const payloadFor = (tag: string, keyId: string, tokenId: string): Record<string, unknown> =>
    ({
      setKeyLimit: { key_id: keyId, limit: 10, limit_reset: "monthly" },
      createBudget: { scope: "key", key_id: keyId, amount: 5, period: "weekly" },
      updateBudget: { budget_id: alice.budgetId, amount: 6 },
      deleteBudget: { budget_id: alice.budgetId },
      listAlerts: { page: 1, limit: 10 },
      usage: { start_date: "2026-11-01", end_date: "2026-11-30", key_ids: [keyId] },
      createWebhook: { url: "https://hooks.example.com/rpc", format: "generic" },
      deleteWebhook: { webhook_id: alice.webhookId },
      testWebhook: { webhook_id: alice.webhookId },
      listDeliveries: { webhook_id: alice.webhookId },
      addKey: { name: "x", key: `sk-or-v1-${"0".repeat(64)}` },
      renameKey: { key_id: keyId, name: "x" },
      setKeyActive: { key_id: keyId, is_active: false },
      deleteKey: { key_id: keyId },
      syncKey: { key_id: keyId },
      createToken: { name: "x" },
      revokeToken: { token_id: tokenId },
      changePassword: { current_password: "x", new_password: "x", new_password_confirm: "x" },
      deleteAccount: { password: "x" }
    })[tag] ?? {}

  it("covers every RPC of the group", () => expect(tags.length).toBeGreaterThanOrEqual(13))

  for (const kind of ["none", "expired", "tampered", "revoked", "loggedOut", "wrongKind"]) {
    it(`${kind}: every RPC fails with Unauthenticated`, async () => {
      const credential = bad[kind]?.session ?? ""
      for (const tag of tags) {
        const headers: Record<string, string> = { origin: server.url }
        if (credential !== "") headers.cookie = `orw_session=${credential}`
        const r = await postRpc(server.url, tag, headers, payloadFor(tag, alice.keyId, alice.tokenId))
        expect(r.text, `${kind} ${tag}`).toContain('"Unauthenticated"')
      }
    })
  }

  it("another user's: Bob's calls on Alice's key or token are refused and show none of her data", async () => {
    for (const tag of tags.filter((t) => !["deleteAccount", "changePassword"].includes(t))) {
      const r = await postRpc(
        server.url,
        tag,
        { origin: server.url, cookie: `orw_session=${bob.jwt}` },
        payloadFor(tag, alice.keyId, alice.tokenId)
      )
      for (const secret of [alice.id, alice.email, alice.keyName]) expect(r.text, tag).not.toContain(secret)
      const onAlices = [
        "renameKey",
        "setKeyActive",
        "deleteKey",
        "syncKey",
        "setKeyLimit",
        "revokeToken",
        "createBudget"
      ]
      if (
        [...onAlices, "updateBudget", "deleteBudget", "deleteWebhook", "testWebhook", "listDeliveries"].includes(tag)
      ) {
        expect(r.text, tag).toMatch(
          /"(KeyForbidden|KeyNotFound|TokenForbidden|TokenNotFound|BudgetForbidden|BudgetNotFound|WebhookForbidden|WebhookNotFound)"/
        )
      }
    }
    const keys = await api.request("GET", "/api/keys", { bearer: alice.jwt })
    expect(keys.body.items.map((k: { id: string }) => k.id)).toEqual([alice.keyId])
  })
})
