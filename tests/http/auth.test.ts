import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client, parseSetCookie } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer({ jwtExpirationHours: 2 })
  api = client(server.url)
})
afterAll(() => server.close())

const strong = "Correct-Horse-9-battery"

describe("POST /api/auth/register", () => {
  it("201 with id, email and created_at; the email is normalized", async () => {
    const r = await api.request("POST", "/api/auth/register", {
      json: { email: "  Alice@Example.COM ", password: strong, password_confirm: strong }
    })
    expect(r.status).toBe(201)
    expect(Object.keys(r.body).sort()).toEqual(["created_at", "email", "id"])
    expect(r.body.email).toBe("alice@example.com")
    expect(r.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
  })

  it("400 Email already registered, whatever the case", async () => {
    const r = await api.request("POST", "/api/auth/register", {
      json: { email: "ALICE@example.com", password: strong, password_confirm: strong }
    })
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ detail: "Email already registered" })
  })

  it("400 for an invalid email", async () => {
    const r = await api.request("POST", "/api/auth/register", {
      json: { email: "not-an-email", password: strong, password_confirm: strong }
    })
    expect(r.status).toBe(400)
    expect(r.body).toEqual({ detail: "Invalid email address" })
  })

  it.each([
    ["Sh0rt!pw", "Password must be at least 12 characters"],
    ["alllowercase-123", "Password must contain uppercase letter"],
    ["ALLUPPERCASE-123", "Password must contain lowercase letter"],
    ["No-Digits-Here!!", "Password must contain digit"],
    ["NoSpecials12345", "Password must contain special character"]
  ])("422 for the weak password %s: %s", async (password, rule) => {
    const r = await api.request("POST", "/api/auth/register", {
      json: { email: `weak-${password.length}-${rule.length}@example.com`, password, password_confirm: password }
    })
    expect(r.status).toBe(422)
    expect(r.body.detail).toContain(rule)
    expect(r.body.errors).toContainEqual({ path: "password", message: rule })
  })

  it("422 when the confirmation differs", async () => {
    const r = await api.request("POST", "/api/auth/register", {
      json: { email: "mismatch@example.com", password: strong, password_confirm: `${strong}x` }
    })
    expect(r.status).toBe(422)
    expect(r.body).toEqual({
      detail: "Passwords do not match",
      errors: [{ path: "password_confirm", message: "Passwords do not match" }]
    })
  })

  it("422 with a field-level list for a body that does not match the schema", async () => {
    const r = await api.request("POST", "/api/auth/register", { json: { email: "x@example.com", password: 5 } })
    expect(r.status).toBe(422)
    expect(typeof r.body.detail).toBe("string")
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain("password")
  })

  it("400 Malformed JSON body; 422 for an empty one", async () => {
    const empty = await api.request("POST", "/api/auth/register", { headers: { "content-type": "application/json" } })
    expect(empty.status).toBe(422)
    expect(typeof empty.body.detail).toBe("string")
    const raw = await fetch(`${server.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"email": '
    })
    expect(raw.status).toBe(400)
    expect(await raw.json()).toEqual({ detail: "Malformed JSON body" })
  })
})

describe("POST /api/auth/login", () => {
  it("200 with the JWT, token_type bearer, expires_in that matches, and an HttpOnly SameSite=Strict cookie", async () => {
    const r = await api.request("POST", "/api/auth/login", { json: { email: "alice@example.com", password: strong } })
    expect(r.status).toBe(200)
    expect(r.body.token_type).toBe("bearer")
    expect(r.body.expires_in).toBe(2 * 3600)
    const [, payload] = (r.body.access_token as string).split(".")
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"))
    expect(claims.exp - claims.iat).toBe(r.body.expires_in)
    const cookie = parseSetCookie(r.setCookies[0] ?? "")
    expect(cookie.name).toBe("orw_session")
    expect(cookie.value).toBe(r.body.access_token)
    expect(cookie.attributes.has("httponly")).toBe(true)
    expect(cookie.attributes.get("samesite")?.toLowerCase()).toBe("strict")
    expect(cookie.attributes.get("path")).toBe("/")
    expect(cookie.attributes.get("max-age")).toBe(String(2 * 3600))
    expect(cookie.attributes.has("secure")).toBe(false)
  })

  it("the cookie is Secure when served over https (X-Forwarded-Proto)", async () => {
    const r = await api.request("POST", "/api/auth/login", {
      json: { email: "alice@example.com", password: strong },
      headers: { "x-forwarded-proto": "https" }
    })
    expect(r.status).toBe(200)
    expect(parseSetCookie(r.setCookies[0] ?? "").attributes.has("secure")).toBe(true)
  })

  it("401 Invalid credentials for a wrong password or an unknown email, no cookie", async () => {
    for (const json of [
      { email: "alice@example.com", password: "Wrong-password-1" },
      { email: "nobody@example.com", password: strong }
    ]) {
      const r = await api.request("POST", "/api/auth/login", { json })
      expect(r.status).toBe(401)
      expect(r.body).toEqual({ detail: "Invalid credentials" })
      expect(r.setCookies).toEqual([])
    }
  })
})

describe("sessions", () => {
  it("a session works as bearer and as cookie; logout answers 204 and clears the cookie", async () => {
    const login = await api.request("POST", "/api/auth/login", {
      json: { email: "alice@example.com", password: strong }
    })
    const jwt = login.body.access_token as string
    expect((await api.request("GET", "/api/users/me", { bearer: jwt })).body.email).toBe("alice@example.com")
    const viaCookie = await api.request("GET", "/api/users/me", { cookie: `orw_session=${jwt}` })
    expect(viaCookie.status).toBe(200)
    // A cookie write shows its Origin (issue 13); without one it is refused.
    const out = await api.request("POST", "/api/auth/logout", {
      cookie: `orw_session=${jwt}`,
      headers: { origin: server.url }
    })
    expect(out.status).toBe(204)
    expect(out.text).toBe("")
    const cleared = parseSetCookie(out.setCookies[0] ?? "")
    expect(cleared.name).toBe("orw_session")
    expect(cleared.value).toBe("")
    expect(cleared.attributes.get("max-age")).toBe("0")
  })

  it("a cookie-authenticated write from another origin is refused", async () => {
    const { jwt } = await api.user("csrf")
    const r = await api.request("POST", "/api/tokens", {
      cookie: `orw_session=${jwt}`,
      json: { name: "x" },
      headers: { origin: "https://evil.example" }
    })
    expect(r.status).toBe(401)
    const same = await api.request("POST", "/api/tokens", {
      cookie: `orw_session=${jwt}`,
      json: { name: "x" },
      headers: { origin: server.url }
    })
    expect(same.status).toBe(201)
  })

  it("a password change ends older sessions and answers with a new one", async () => {
    const u = await api.user("pw")
    const second = (await api.request("POST", "/api/auth/login", { json: { email: u.email, password: u.password } }))
      .body.access_token as string
    const next = "Brand-New-Passw0rd!"
    const wrong = await api.request("PUT", "/api/users/me/password", {
      bearer: u.jwt,
      json: { current_password: "Not-the-Passw0rd", new_password: next, new_password_confirm: next }
    })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toEqual({ detail: "Current password is incorrect" })
    const weak = await api.request("PUT", "/api/users/me/password", {
      bearer: u.jwt,
      json: { current_password: u.password, new_password: "weak", new_password_confirm: "weak" }
    })
    expect(weak.status).toBe(422)
    const changed = await api.request("PUT", "/api/users/me/password", {
      bearer: u.jwt,
      json: { current_password: u.password, new_password: next, new_password_confirm: next }
    })
    expect(changed.status).toBe(200)
    expect(changed.body.token_type).toBe("bearer")
    for (const old of [u.jwt, second]) {
      const r = await api.request("GET", "/api/users/me", { bearer: old })
      expect(r.status).toBe(401)
      expect(r.body).toEqual({ detail: "Invalid or expired token" })
    }
    expect((await api.request("GET", "/api/users/me", { bearer: changed.body.access_token })).status).toBe(200)
    const oldLogin = await api.request("POST", "/api/auth/login", { json: { email: u.email, password: u.password } })
    expect(oldLogin.status).toBe(401)
    expect((await api.request("POST", "/api/auth/login", { json: { email: u.email, password: next } })).status).toBe(
      200
    )
  })

  it("DELETE /api/users/me deletes the account: its sessions and tokens stop, the email is free again", async () => {
    const u = await api.user("gone")
    const token = await api.apiToken(u.jwt)
    expect((await api.request("GET", "/api/v1/keys", { bearer: token.token })).status).toBe(200)
    // The password confirms it (issue 13).
    const r = await api.request("DELETE", "/api/users/me", { bearer: u.jwt, json: { password: u.password } })
    expect(r.status).toBe(204)
    expect((await api.request("GET", "/api/users/me", { bearer: u.jwt })).status).toBe(401)
    expect((await api.request("GET", "/api/v1/keys", { bearer: token.token })).status).toBe(401)
    const again = await api.request("POST", "/api/auth/register", {
      json: { email: u.email, password: strong, password_confirm: strong }
    })
    expect(again.status).toBe(201)
  })
})
