import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client, rawGet } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>
let webDist: string

beforeAll(async () => {
  webDist = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-web-"))
  NodeFs.mkdirSync(NodePath.join(webDist, "assets"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(webDist, "index.html"), "<!doctype html><title>orw</title>")
  NodeFs.writeFileSync(NodePath.join(webDist, "assets", "app-1234.js"), "console.log('app')")
  NodeFs.writeFileSync(NodePath.join(webDist, ".secret"), "hidden")
  process.env.WEB_DIST_DIR = webDist
  server = await startServer()
  api = client(server.url)
})
afterAll(async () => {
  await server.close()
  NodeFs.rmSync(webDist, { recursive: true, force: true })
})

const expectSecurityHeaders = (headers: Headers) => {
  expect(headers.get("x-content-type-options")).toBe("nosniff")
  expect(headers.get("x-frame-options")).toBe("DENY")
  expect(headers.get("strict-transport-security")).toMatch(/max-age=\d+/)
  expect(headers.get("referrer-policy")).toBeTruthy()
  const csp = headers.get("content-security-policy") ?? ""
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'"
  ]) {
    expect(csp).toContain(directive)
  }
  expect(csp).not.toContain("unsafe-eval")
  const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src")) ?? ""
  expect(scriptSrc).not.toContain("unsafe-inline")
  expect(headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
}

/**
 * Corrupts the signed-in user's row of the users table (a date that does not parse), runs `f`, and
 * repairs it: a real defect in the session check, not a test-only route.
 */
const withCorruptUser = async <A>(userId: string, f: () => Promise<A>) => {
  const run = (statement: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
    server.run(Effect.flatMap(SqlClient.SqlClient, statement).pipe(Effect.orDie))
  const rows = (await run((sql) => sql`SELECT password_changed_at FROM users WHERE id = ${userId}`)) as Array<{
    password_changed_at: string
  }>
  const original = rows[0]?.password_changed_at ?? ""
  await run((sql) => sql`UPDATE users SET password_changed_at = ${"not-a-date"} WHERE id = ${userId}`)
  try {
    return await f()
  } finally {
    await run((sql) => sql`UPDATE users SET password_changed_at = ${original} WHERE id = ${userId}`)
  }
}

describe("security headers", () => {
  it("on 200, 404, 401, 422 and 500 responses alike", async () => {
    const ok = await api.request("GET", "/healthz")
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ status: "ok" })
    expectSecurityHeaders(ok.headers)
    const missing = await api.request("GET", "/api/nothing-here")
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ detail: "Not Found" })
    expectSecurityHeaders(missing.headers)
    const unknownMethod = await api.request("PATCH", "/api/keys")
    expect(unknownMethod.status).toBe(404)
    const unauthorized = await api.request("GET", "/api/keys")
    expect(unauthorized.status).toBe(401)
    expectSecurityHeaders(unauthorized.headers)
    expect(unauthorized.headers.get("cache-control")).toBe("no-store")
    const { id, jwt } = await api.user()
    const invalid = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: 1 } })
    expect(invalid.status).toBe(422)
    expectSecurityHeaders(invalid.headers)
    const failed = await withCorruptUser(id, () => api.request("GET", "/api/tokens", { bearer: jwt }))
    expect(failed.status).toBe(500)
    expectSecurityHeaders(failed.headers)
  })

  it("a defect is 500 {detail} with the request id, logged with it, and no stack reaches the client", async () => {
    const { id, jwt } = await api.user()
    const failed = await withCorruptUser(id, () => api.request("GET", "/api/tokens", { bearer: jwt }))
    const requestId = failed.headers.get("x-request-id") ?? ""
    expect(failed.body).toEqual({ detail: `Internal server error (request id ${requestId})` })
    expect(failed.text).not.toMatch(/not-a-date|Error|\bat \w|\.ts:\d+/)
    const logged = server.logs.filter((line) => line.includes(`requestId=${requestId}`))
    expect(logged.some((line) => line.includes("level=ERROR") && line.includes("Unhandled error"))).toBe(true)
    expect((await api.request("GET", "/api/tokens", { bearer: jwt })).status).toBe(200)
  })

  it("/docs relaxes only inline styles, never scripts", async () => {
    const docs = await api.request("GET", "/docs")
    expect(docs.status).toBe(200)
    expectSecurityHeaders(docs.headers)
    const csp = docs.headers.get("content-security-policy") ?? ""
    expect(csp).toContain("style-src 'self' 'unsafe-inline'")
    expect((await api.request("GET", "/healthz")).headers.get("content-security-policy")).not.toContain("unsafe-inline")
  })
})

describe("request bodies", () => {
  it("413 {detail} for a body over 1 MiB", async () => {
    const r = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "x@example.com", password: "p".repeat(2 * 1024 * 1024) })
    })
    expect(r.status).toBe(413)
    expect(await r.json()).toEqual({ detail: "Request body too large" })
  })
})

describe("Host check", () => {
  it("400 Invalid host header for a Host outside ALLOWED_HOSTS, with the security headers", async () => {
    const r = await rawGet(server.url, "/healthz", "evil.example.com")
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body)).toEqual({ detail: "Invalid host header" })
    expect(r.headers["x-frame-options"]).toBe("DENY")
    const port = new URL(server.url).port
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "LOCALHOST"]) {
      expect((await rawGet(server.url, "/healthz", host)).status).toBe(200)
    }
  })
})

describe("docs", () => {
  it("/openapi.json is OpenAPI 3 of the JSON and v1 APIs, errors as {detail}", async () => {
    const r = await api.request("GET", "/openapi.json")
    expect(r.status).toBe(200)
    expect(r.body.openapi).toMatch(/^3\./)
    for (const path of [
      "/api/auth/register",
      "/api/auth/login",
      "/api/auth/logout",
      "/api/keys",
      "/api/keys/{id}",
      "/api/keys/{id}/sync",
      "/api/tokens",
      "/api/tokens/{id}",
      "/api/v1/stats",
      "/api/v1/usage",
      "/api/v1/keys"
    ]) {
      expect(Object.keys(r.body.paths)).toContain(path)
    }
    const notFound = r.body.paths["/api/keys/{id}"].put.responses["404"].content["application/json"].schema
    expect(notFound.properties).toEqual({ detail: { type: "string" } })
    expect(r.text).not.toContain("HttpApiDecodeError")
    expect(r.body.components.securitySchemes).toMatchObject({
      bearer: { type: "http", scheme: "bearer" },
      cookie: { type: "apiKey", in: "cookie", name: "orw_session" }
    })
  })

  it("/docs serves Swagger UI from our own origin: no CDN, no inline script", async () => {
    const page = await api.request("GET", "/docs")
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.text).not.toMatch(/https?:\/\//)
    expect(page.text).not.toMatch(/<script>|<script[^>]*>[^<]+<\/script>/)
    const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1])
    expect(scripts).toEqual(["/docs/swagger-ui-bundle.js", "/docs/init.js"])
    for (const asset of [...scripts, "/docs/swagger-ui.css"]) {
      const r = await fetch(`${server.url}${asset}`)
      expect(r.status).toBe(200)
      expect(r.headers.get("content-type")).toMatch(asset?.endsWith(".css") ? /text\/css/ : /javascript/)
      expect((await r.text()).length).toBeGreaterThan(10)
    }
  })
})

describe("health and metrics", () => {
  it("/readyz is 200 with every projection at lag 0", async () => {
    const r = await api.request("GET", "/readyz")
    expect(r.status).toBe(200)
    expect(r.body.status).toBe("ready")
    expect(r.body.projections.every((p: { lag: number }) => p.lag === 0)).toBe(true)
  })

  it("/readyz is 503 with detail while a projection lags behind the log", async () => {
    const checkpoint = (position: string) =>
      server.run(
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql.unsafe(`UPDATE projection_checkpoints SET position = ${position} WHERE name = 'users'`)
        ).pipe(Effect.orDie)
      )
    await checkpoint("position - 1")
    try {
      const r = await api.request("GET", "/readyz")
      expect(r.status).toBe(503)
      expect(r.body.detail).toContain("users")
    } finally {
      await checkpoint("position + 1")
    }
    expect((await api.request("GET", "/readyz")).status).toBe(200)
  })

  it("/metrics is Prometheus text with requests by route and status, and the event count", async () => {
    await api.request("GET", "/api/keys")
    const r = await fetch(`${server.url}/metrics`)
    expect(r.headers.get("content-type")).toContain("text/plain")
    const text = await r.text()
    expect(text).toMatch(/orw_http_requests_total\{method="GET",route="\/api\/keys",status="401"\} \d+/)
    expect(text).toMatch(/^orw_events_total \d+$/m)
    expect(text).toMatch(/orw_projection_lag\{projection="users"\} 0/)
  })
})

describe("web app (served only when built)", () => {
  it("/ redirects to /dashboard; SPA routes answer index.html; assets are files; nothing outside or hidden", async () => {
    const root = await api.request("GET", "/")
    expect(root.status).toBe(302)
    expect(root.headers.get("location")).toBe("/dashboard")
    for (const route of ["/login", "/register", "/dashboard", "/keys", "/tokens", "/profile", "/keys/abc"]) {
      const r = await api.request("GET", route)
      expect(r.status).toBe(200)
      expect(r.text).toContain("<title>orw</title>")
      expectSecurityHeaders(r.headers)
    }
    const asset = await fetch(`${server.url}/assets/app-1234.js`)
    expect(asset.headers.get("content-type")).toContain("javascript")
    expect(asset.headers.get("cache-control")).toContain("immutable")
    for (const path of ["/.secret", "/assets/../.secret", "/%2e%2e/etc/passwd", "/missing.js"]) {
      expect((await api.request("GET", path)).status).toBe(404)
    }
  })
})
