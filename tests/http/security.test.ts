import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { VERSION } from "@orw/domain/Version"
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
  NodeFs.writeFileSync(NodePath.join(webDist, "assets", "app-1234.js.map"), '{"version":3,"sources":["src/app.ts"]}')
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
 * GET /api/tokens while its `token_usage` read table is hidden: a real SQL failure (a defect), not a
 * test-only route. The user has a token, so the list reads `token_usage`. The statement is prepared once
 * before, as the SQL client caches a failed prepare.
 */
const failedTokenList = async (jwt: string) => {
  const run = (statement: string) =>
    server.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(Effect.orDie))
  expect((await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "probe" } })).status).toBe(201)
  expect((await api.request("GET", "/api/tokens", { bearer: jwt })).status).toBe(200)
  await run("ALTER TABLE token_usage RENAME TO token_usage_hidden")
  try {
    return await api.request("GET", "/api/tokens", { bearer: jwt })
  } finally {
    await run("ALTER TABLE token_usage_hidden RENAME TO token_usage")
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
    expect(unknownMethod.status).toBe(405)
    expectSecurityHeaders(unknownMethod.headers)
    const unauthorized = await api.request("GET", "/api/keys")
    expect(unauthorized.status).toBe(401)
    expectSecurityHeaders(unauthorized.headers)
    expect(unauthorized.headers.get("cache-control")).toBe("no-store")
    const { jwt } = await api.user()
    const invalid = await api.request("POST", "/api/keys", { bearer: jwt, json: { name: 1 } })
    expect(invalid.status).toBe(422)
    expectSecurityHeaders(invalid.headers)
    const failed = await failedTokenList(jwt)
    expect(failed.status).toBe(500)
    expectSecurityHeaders(failed.headers)
  })

  it("a defect is 500 {detail} with the request id, logged with it, and no stack reaches the client", async () => {
    const { jwt } = await api.user()
    const failed = await failedTokenList(jwt)
    const requestId = failed.headers.get("x-request-id") ?? ""
    expect(failed.body).toEqual({ detail: `Internal server error (request id ${requestId})` })
    expect(failed.text).not.toMatch(/token_usage|Error|\bat \w|\.ts:\d+/)
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

describe("methods", () => {
  it("a method a known path does not answer is 405 {detail} with Allow; an unknown path stays 404", async () => {
    const { jwt } = await api.user()
    for (const [method, path, allow] of [
      ["PATCH", "/api/keys", "GET, POST, HEAD, OPTIONS"],
      ["GET", "/api/keys/some-id", "PUT, DELETE, OPTIONS"],
      ["GET", "/api/auth/login", "POST, OPTIONS"],
      ["POST", "/healthz", "GET, HEAD, OPTIONS"]
    ] as const) {
      const r = await api.request(method, path, { bearer: jwt })
      expect(r.status).toBe(405)
      expect(r.body).toEqual({ detail: "Method Not Allowed" })
      expect(r.headers.get("allow")).toBe(allow)
      expectSecurityHeaders(r.headers)
    }
    expect((await api.request("DELETE", "/api/nothing-here")).body).toEqual({ detail: "Not Found" })
  })

  it("OPTIONS on a known path is 204 with Allow; HEAD answers like GET without a body", async () => {
    const options = await api.request("OPTIONS", "/api/tokens/some-id")
    expect(options.status).toBe(204)
    expect(options.headers.get("allow")).toBe("DELETE, OPTIONS")
    expectSecurityHeaders(options.headers)
    expect((await api.request("OPTIONS", "/login")).headers.get("allow")).toBe("GET, HEAD, OPTIONS")
    expect((await api.request("OPTIONS", "/api/nothing-here")).status).toBe(404)
    const head = await api.request("HEAD", "/healthz")
    expect(head.status).toBe(200)
    expect(head.text).toBe("")
    expectSecurityHeaders(head.headers)
  })

  it("repeated slashes name the same route: the API answer is still no-store", async () => {
    const r = await api.request("GET", "//api//keys")
    expect(r.status).toBe(401)
    expect(r.headers.get("cache-control")).toBe("no-store")
  })
})

/** A POST whose body is sent chunked (no Content-Length), `size` bytes of a JSON string. */
const chunkedPost = (path: string, size: number, headers: Record<string, string>) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(path, server.url)
    const req = NodeHttp.request(
      { hostname: url.hostname, port: url.port, path: url.pathname, method: "POST", headers },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      }
    )
    req.on("error", reject)
    const chunk = Buffer.alloc(64 * 1024, "a")
    let sent = 0
    const write = () => {
      while (sent < size) {
        sent += chunk.length
        if (!req.write(chunk)) return req.once("drain", write)
      }
      req.end('"')
    }
    req.write('"')
    write()
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

  it("413 {detail} also for a chunked body over 1 MiB: the answer reaches the client, no reset", async () => {
    const { jwt } = await api.user()
    const r = await chunkedPost("/api/tokens", 3 * 1024 * 1024, {
      "content-type": "application/json",
      authorization: `Bearer ${jwt}`
    })
    expect(r.status).toBe(413)
    expect(JSON.parse(r.body)).toEqual({ detail: "Request body too large" })
    expect((await api.request("GET", "/api/tokens", { bearer: jwt })).body.items).toEqual([])
  })

  it("headers too large or an unparsable request: {detail} and the security headers, from Node", async () => {
    const big = await fetch(`${server.url}/healthz`, { headers: { "x-big": "a".repeat(20_000) } })
    expect(big.status).toBe(431)
    expect(await big.json()).toEqual({ detail: "Request Header Fields Too Large" })
    expect(big.headers.get("x-frame-options")).toBe("DENY")
    expect(big.headers.get("content-security-policy")).toContain("default-src 'self'")
    const garbage = await new Promise<string>((resolve, reject) => {
      const socket = NodeNet.connect(Number(new URL(server.url).port), "127.0.0.1", () => socket.end("GARBAGE\r\n\r\n"))
      let answer = ""
      socket.setEncoding("utf8")
      socket.on("data", (chunk: string) => {
        answer += chunk
      })
      socket.on("end", () => resolve(answer))
      socket.on("error", reject)
    })
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /)
    expect(garbage).toMatch(/\r\nx-content-type-options: nosniff\r\n/)
    expect(garbage.endsWith('{"detail":"Bad Request"}')).toBe(true)
  })

  it("415 {detail} for a body that is not JSON (a form, text); nothing is stored", async () => {
    const { jwt } = await api.user()
    const key = `sk-or-v1-${"ab".repeat(32)}`
    for (const [contentType, body] of [
      ["application/x-www-form-urlencoded", `name=form&key=${key}`],
      ["text/plain", JSON.stringify({ name: "text", key })],
      ["multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nm\r\n--x--\r\n']
    ] as const) {
      const r = await fetch(`${server.url}/api/keys`, {
        method: "POST",
        headers: { "content-type": contentType, authorization: `Bearer ${jwt}` },
        body
      })
      expect(r.status).toBe(415)
      expect(await r.json()).toEqual({ detail: "Content-Type must be application/json" })
      expectSecurityHeaders(r.headers)
    }
    expect((await api.request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(0)
    const withCharset = await fetch(`${server.url}/api/tokens`, {
      method: "POST",
      headers: { "content-type": "Application/JSON; charset=utf-8", authorization: `Bearer ${jwt}` },
      body: JSON.stringify({ name: "charset" })
    })
    expect(withCharset.status).toBe(201)
  })

  it("422 names the field and what was expected, never the value sent (it may be a password or a key)", async () => {
    const secret = "Very-Secret-Passw0rd!"
    const asString = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(JSON.stringify({ email: "x@example.com", password: secret }))
    })
    expect(asString.status).toBe(422)
    expect(await asString.json()).toEqual({
      detail: "Expected a JSON object",
      errors: [{ path: "", message: "Expected a JSON object" }]
    })
    const wrongType = await api.request("POST", "/api/auth/login", {
      json: { email: "x@example.com", password: [secret] }
    })
    expect(wrongType.status).toBe(422)
    expect(wrongType.body.errors).toEqual([{ path: "password", message: "Expected string" }])
    expect(wrongType.text).not.toContain(secret)
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

  it("a server on 127.0.0.1 also answers on [::1], the same port", async () => {
    const port = new URL(server.url).port
    const r = await fetch(`http://[::1]:${port}/healthz`)
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ status: "ok" })
  })
})

describe("docs", () => {
  it("/openapi.json is OpenAPI 3 of the JSON and v1 APIs, errors as {detail}", async () => {
    const r = await api.request("GET", "/openapi.json")
    expect(r.status).toBe(200)
    expect(r.body.openapi).toMatch(/^3\./)
    // Issue 11: the product's one version, as the footer and `orw --version` show it.
    expect(r.body.info.version).toBe(VERSION)
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
    const icon = page.text.match(/<link rel="icon" type="image\/png" href="([^"]+)">/)?.[1]
    expect(icon).toBe("/docs/favicon-32x32.png")
    expect((await fetch(`${server.url}${icon}`)).headers.get("content-type")).toBe("image/png")
    // Swagger UI's default online validator would put an image from another origin on the page.
    expect(await (await fetch(`${server.url}/docs/init.js`)).text()).toContain("validatorUrl: null")
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

  it("issue 11: a browser opening an unknown page gets the app (its not-found page) as a 404, never raw JSON", async () => {
    const html = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" }
    // Under a page's path the app decides (200, it renders not-found itself); elsewhere the status says 404.
    const pages = { "/nope": 404, "/Nope/deeper": 404, "/keys/unknown": 200, "/dashboard/x/y": 200 }
    for (const [path, status] of Object.entries(pages)) {
      const r = await fetch(`${server.url}${path}`, { headers: html })
      expect([path, r.status, r.headers.get("content-type")]).toEqual([
        path,
        status,
        expect.stringContaining("text/html")
      ])
      expect(await r.text()).toContain("<title>orw</title>")
    }
    // APIs, tools and files keep their JSON 404, whatever the client accepts.
    for (const path of ["/api/nope", "/api/v1/nope", "/rpc/nope", "/healthz/x", "/missing.js", "/assets/gone.css"]) {
      const r = await fetch(`${server.url}${path}`, { headers: html })
      expect([path, r.status]).toEqual([path, 404])
      expect(r.headers.get("content-type")).toContain("application/json")
    }
    expect((await api.request("GET", "/nope")).body).toEqual({ detail: expect.any(String) })
  })
})

describe("issue 13: source maps", () => {
  it("the web app's source maps are never served, even when a build has them", async () => {
    expect((await api.request("GET", "/assets/app-1234.js")).status).toBe(200)
    for (const path of ["/assets/app-1234.js.map", "/assets/APP-1234.JS.MAP"]) {
      const r = await api.request("GET", path)
      expect(r.status, path).toBe(404)
      expect(r.text).not.toContain("sources")
    }
  })

  it("the production build emits none", () => {
    const config = NodeFs.readFileSync(
      NodePath.resolve(import.meta.dirname, "../../packages/web/vite.config.ts"),
      "utf8"
    )
    expect(config).toMatch(/sourcemap: false/)
  })
})
