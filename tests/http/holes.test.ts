import * as NodeNet from "node:net"
import { Passwords } from "@orw/server/Auth/Passwords"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postRpc } from "../e2e/support/rpc.js"
import { client, fakeKey } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

/*
 * Regression tests for the holes of issue 13 that a real server shows from outside. Each was run against the
 * code before its fix and failed there (RELIABILITY.md names them).
 */

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

/** Writes `raw` on a fresh connection and resolves with everything the server sent until it closed. */
export const rawExchange = (url: string, raw: string, timeoutMs = 5_000) =>
  new Promise<string>((resolve, reject) => {
    const { hostname, port } = new URL(url)
    const socket = NodeNet.connect({ host: hostname, port: Number(port) })
    let answer = ""
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no close within ${timeoutMs}ms; got: ${answer}`))
    }, timeoutMs)
    socket.setEncoding("latin1")
    socket.on("data", (chunk: string) => {
      answer += chunk
    })
    socket.on("error", () => {})
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(answer)
    })
    socket.write(raw)
  })

const bodyOf = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4)

describe("issue 13: impossible dates", () => {
  it("impossible dates on /api/v1/stats and /usage: 422 {detail}, never 500", async () => {
    const { jwt } = await api.user("dates")
    const { token } = await api.apiToken(jwt)
    for (const path of ["/api/v1/stats", "/api/v1/usage"]) {
      for (const date of ["2024-13-01", "2024-00-10", "2024-01-32", "2023-02-29", "2024-04-31"]) {
        for (const param of ["start_date", "end_date"]) {
          const r = await api.request("GET", `${path}?${param}=${date}`, { bearer: token })
          expect(r.status, `${path} ${param}=${date}`).toBe(422)
          expect(typeof r.body.detail).toBe("string")
        }
      }
    }
  })
})

describe("issue 13: deeply nested JSON", () => {
  it("about 2,300 levels of nesting: 400 {detail} without formatting the tree, on every JSON route and /rpc", async () => {
    const { jwt } = await api.user("nested")
    const arrays = `${"[".repeat(2300)}${"]".repeat(2300)}`
    const objects = `${'{"a":'.repeat(2300)}1${"}".repeat(2300)}`
    const inField = `{"email":${arrays},"password":"x"}`
    for (const body of [arrays, objects, inField]) {
      for (const [method, path, bearer] of [
        ["POST", "/api/auth/login", undefined],
        ["POST", "/api/auth/register", undefined],
        ["POST", "/api/keys", jwt],
        ["POST", "/api/tokens", jwt]
      ] as const) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
          body
        })
        expect([400, 422], `${path}`).toContain(response.status)
        const answer = (await response.json()) as { detail: string }
        expect(answer.detail.length).toBeLessThan(300)
      }
      const rpc = await fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url, cookie: `orw_session=${jwt}` },
        body: `{"_tag":"Request","id":"1","tag":"addKey","payload":${body},"headers":[]}`
      })
      expect(rpc.status).toBe(400)
    }
  })
})

describe("issue 13: the login rate limit", () => {
  it("every spelling of the login and register URLs shares one bucket per IP", async () => {
    const limited = await startServer({ authRateLimitPerMinute: 3 })
    try {
      const spellings = [
        "/api/auth/login",
        "/API/auth/login",
        "//api/auth/login",
        "/api/auth/login/",
        "/api//auth/login"
      ]
      const statuses: Array<number> = []
      for (const path of spellings) {
        const r = await client(limited.url).request("POST", path, {
          json: { email: "nobody@example.com", password: "Whatever-1!x" }
        })
        statuses.push(r.status)
      }
      expect(statuses.slice(0, 3)).toEqual([401, 401, 401])
      expect(statuses.slice(3)).toEqual([429, 429])
    } finally {
      await limited.close()
    }
  })

  it("[::1] and 127.0.0.1 are one client: one bucket", async () => {
    const limited = await startServer({ authRateLimitPerMinute: 2, allowedHosts: ["*"] })
    try {
      const port = new URL(limited.url).port
      const hosts = [`http://127.0.0.1:${port}`, `http://[::1]:${port}`, `http://localhost:${port}`]
      const statuses: Array<number> = []
      for (const base of hosts) {
        try {
          const r = await client(base).request("POST", "/api/auth/login", {
            json: { email: "nobody@example.com", password: "Whatever-1!x" }
          })
          statuses.push(r.status)
        } catch {
          // A machine without IPv6 loopback: that address is simply not there.
        }
      }
      expect(statuses.slice(0, 2)).toEqual([401, 401])
      expect(statuses.slice(2).every((s) => s === 429)).toBe(true)
    } finally {
      await limited.close()
    }
  })
})

describe("issue 13: a login flood", () => {
  it("argon2 work is bounded: beyond it a login is refused at once with 503 {detail}, and v1 keeps answering", async () => {
    // Production argon2id cost, one hash at a time and two waiting.
    const flooded = await startServer({}, { passwords: Passwords.layerWith({ concurrency: 1, waiting: 2 }) })
    try {
      const floodApi = client(flooded.url)
      const { jwt } = await floodApi.user("flood")
      const { token } = await floodApi.apiToken(jwt)
      const login = () =>
        floodApi.request("POST", "/api/auth/login", { json: { email: "nobody@example.com", password: "Whatever-1!x" } })
      const [answers, stats] = await Promise.all([
        Promise.all(Array.from({ length: 30 }, login)),
        floodApi.request("GET", "/api/v1/stats", { bearer: token })
      ])
      const statuses = answers.map((a) => a.status)
      expect(statuses.every((s) => s === 401 || s === 503)).toBe(true)
      // Without the bound every login is a 401; with it most of the burst is refused at once (how many exactly
      // depends on how the 30 requests interleave with the hashes that finish, so not an exact count).
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(10)
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(3)
      for (const a of answers.filter((x) => x.status === 503))
        expect(a.body).toEqual({ detail: "Server busy, try again shortly" })
      expect(stats.status).toBe(200)
    } finally {
      await flooded.close()
    }
  })
})

describe("issue 13: sessions end server-side", () => {
  it("after logout the JWT no longer works as bearer, as cookie, or on /rpc", async () => {
    const { jwt } = await api.user("logout")
    const out = await api.request("POST", "/api/auth/logout", { bearer: jwt })
    expect(out.status).toBe(204)
    expect((await api.request("GET", "/api/users/me", { bearer: jwt })).status).toBe(401)
    expect((await api.request("GET", "/api/users/me", { cookie: `orw_session=${jwt}` })).status).toBe(401)
    const rpc = await postRpc(server.url, "me", { origin: server.url, cookie: `orw_session=${jwt}` })
    expect(rpc.text).toContain("Unauthenticated")
  })

  it("a cookie logout ends that session only; another session of the user keeps working", async () => {
    const u = await api.user("logout2")
    const other = (await api.request("POST", "/api/auth/login", { json: { email: u.email, password: u.password } }))
      .body.access_token as string
    const out = await api.request("POST", "/api/auth/logout", {
      cookie: `orw_session=${u.jwt}`,
      headers: { origin: server.url }
    })
    expect(out.status).toBe(204)
    expect((await api.request("GET", "/api/users/me", { bearer: u.jwt })).status).toBe(401)
    expect((await api.request("GET", "/api/users/me", { bearer: other })).status).toBe(200)
  })
})

describe("issue 13: renaming an invalid key", () => {
  it("the key stays invalid (status does not lie) and the next sync does not mark it invalid again", async () => {
    const { jwt } = await api.user("rename")
    const key = server.sim.addKey({ disabled: true })
    const id = await api.addKey(jwt, key)
    expect((await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })).body.key.status).toBe("invalid")
    const renamed = await api.request("PUT", `/api/keys/${id}`, { bearer: jwt, json: { name: "renamed" } })
    expect(renamed.status).toBe(200)
    expect(renamed.body.name).toBe("renamed")
    expect(renamed.body.status).toBe("invalid")
    const again = await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })
    expect(again.body.recorded).toEqual([])
    // A re-activation is what re-arms it.
    const reactivated = await api.request("PUT", `/api/keys/${id}`, { bearer: jwt, json: { is_active: true } })
    expect(reactivated.body.status).toBe("active")
  })
})

describe("issue 13: DELETE /api/users/me needs the password", () => {
  it("no body or a wrong password: refused, the account stays; the right one deletes it", async () => {
    const u = await api.user("delete")
    expect((await api.request("DELETE", "/api/users/me", { bearer: u.jwt })).status).toBe(422)
    const wrong = await api.request("DELETE", "/api/users/me", { bearer: u.jwt, json: { password: "Wrong-Passw0rd!" } })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toEqual({ detail: "Password is incorrect" })
    expect((await api.request("GET", "/api/users/me", { bearer: u.jwt })).status).toBe(200)
    const right = await api.request("DELETE", "/api/users/me", { bearer: u.jwt, json: { password: u.password } })
    expect(right.status).toBe(204)
    expect((await api.request("GET", "/api/users/me", { bearer: u.jwt })).status).toBe(401)
  })
})

describe("issue 13: /rpc", () => {
  it("a schema-invalid payload is refused without echoing it; answers carry Cache-Control: no-store", async () => {
    const { jwt } = await api.user("rpc")
    const secret = fakeKey()
    const headers = { origin: server.url, cookie: `orw_session=${jwt}` }
    for (const payload of [
      secret,
      [secret],
      { name: secret, key: 1 },
      { name: "x", key: [secret] },
      { key: { secret } }
    ]) {
      const response = await fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ _tag: "Request", id: "1", tag: "addKey", payload, headers: [] })
      })
      const text = await response.text()
      expect(text).not.toContain(secret.slice(9))
      expect(response.headers.get("cache-control")).toBe("no-store")
    }
    const password = "Secret-Passw0rd-Echo!"
    for (const body of [{ password: [password] }, { password: { password } }]) {
      const echoed = await postRpc(server.url, "deleteAccount", headers, body)
      expect(echoed.text).toContain("Invalid payload")
      expect(echoed.text).not.toContain(password)
    }
    const whole = await fetch(`${server.url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ _tag: "Request", id: "1", tag: "changePassword", payload: password, headers: [] })
    })
    expect(await whole.text()).not.toContain(password)
  })
})

describe("issue 13: cookie writes need an Origin", () => {
  it("a cookie-authenticated write with no Origin is refused; Sec-Fetch-Site: same-origin or our Origin pass", async () => {
    const { jwt } = await api.user("origin")
    const cookie = `orw_session=${jwt}`
    const bare = await api.request("POST", "/api/tokens", { cookie, json: { name: "x" } })
    expect(bare.status).toBe(401)
    expect(typeof bare.body.detail).toBe("string")
    const fetchSite = await api.request("POST", "/api/tokens", {
      cookie,
      json: { name: "y" },
      headers: { "sec-fetch-site": "same-origin" }
    })
    expect(fetchSite.status).toBe(201)
    const crossSite = await api.request("POST", "/api/tokens", {
      cookie,
      json: { name: "z" },
      headers: { "sec-fetch-site": "cross-site" }
    })
    expect(crossSite.status).toBe(401)
    // Reads and bearer writes need no Origin.
    expect((await api.request("GET", "/api/tokens", { cookie })).status).toBe(200)
    expect((await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "w" } })).status).toBe(201)
  })
})

describe("issue 13: Node-level errors", () => {
  const expectDetail = (answer: string, status: number) => {
    expect(answer.startsWith(`HTTP/1.1 ${status} `), answer).toBe(true)
    expect(answer.toLowerCase()).toContain("x-content-type-options: nosniff")
    expect(answer.toLowerCase()).toContain("content-security-policy:")
    expect(typeof JSON.parse(bodyOf(answer)).detail).toBe("string")
  }

  it("no Host header: 400 {detail} with the security headers", async () => {
    expectDetail(await rawExchange(server.url, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"), 400)
  })

  it("a bad chunk size: 400 {detail} with the security headers", async () => {
    const raw =
      "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    expectDetail(await rawExchange(server.url, raw), 400)
  })

  it("CONNECT: 405 {detail} with the security headers", async () => {
    expectDetail(
      await rawExchange(server.url, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
      405
    )
  })
})

describe("issue 13: slow clients", () => {
  it("headers trickled past the header timeout, a body past the request timeout: 408 {detail}; a connection cap", async () => {
    const slow = await startServer(
      {},
      { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50, maxConnections: 8 } }
    )
    try {
      const { hostname, port } = new URL(slow.url)
      const trickle = (first: string) =>
        new Promise<{ answer: string; ms: number }>((resolve) => {
          const started = Date.now()
          const socket = NodeNet.connect({ host: hostname, port: Number(port) })
          let answer = ""
          socket.setEncoding("latin1")
          socket.on("data", (chunk: string) => {
            answer += chunk
          })
          socket.on("error", () => {})
          // One byte every 100 ms, never finishing, until the server gives up (bounded: 100 bytes).
          let sent = 0
          const timer = setInterval(() => {
            if (sent++ < 100 && !socket.destroyed) socket.write("x")
          }, 100)
          socket.on("close", () => {
            clearInterval(timer)
            resolve({ answer, ms: Date.now() - started })
          })
          socket.write(first)
        })
      const headers = await trickle("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
      expect(headers.answer.startsWith("HTTP/1.1 408 "), headers.answer).toBe(true)
      expect(headers.ms).toBeLessThan(5_000)
      const body = await trickle(
        "POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
      )
      expect(body.answer.startsWith("HTTP/1.1 408 "), body.answer).toBe(true)
      expect(typeof JSON.parse(bodyOf(body.answer)).detail).toBe("string")
      expect(body.ms).toBeLessThan(5_000)

      // Eight idle connections fill the cap: the ninth is closed unanswered, and a slot freed is usable again.
      const open = await Promise.all(
        Array.from(
          { length: 8 },
          () =>
            new Promise<NodeNet.Socket>((resolve) => {
              const socket = NodeNet.connect({ host: hostname, port: Number(port) }, () => resolve(socket))
              socket.on("error", () => {})
            })
        )
      )
      const refused = await rawExchange(slow.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
      expect(refused).toBe("")
      for (const socket of open) socket.destroy()
      await new Promise((resolve) => setTimeout(resolve, 100))
      expect(
        (await rawExchange(slow.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")).slice(
          0,
          12
        )
      ).toBe("HTTP/1.1 200")
    } finally {
      await slow.close()
    }
  })
})

describe("issue 13: names, page/limit, charsets", () => {
  const BAD_NAMES = [
    "a\u0000b",
    "evil\u202Etxt",
    "zero\u200Bwidth",
    "bell\u0007",
    "tab\there",
    "\u2066iso",
    "b\uFEFFom"
  ]

  it("key and token names with control, bidi or zero-width characters: 400 {detail}", async () => {
    const { jwt } = await api.user("names")
    const keyId = await api.addKey(jwt)
    for (const name of BAD_NAMES) {
      const key = await api.request("POST", "/api/keys", { bearer: jwt, json: { name, key: fakeKey() } })
      expect([400, 422], JSON.stringify(name)).toContain(key.status)
      expect(typeof key.body.detail).toBe("string")
      const renamed = await api.request("PUT", `/api/keys/${keyId}`, { bearer: jwt, json: { name } })
      expect([400, 422], JSON.stringify(name)).toContain(renamed.status)
      const token = await api.request("POST", "/api/tokens", { bearer: jwt, json: { name } })
      expect([400, 422], JSON.stringify(name)).toContain(token.status)
    }
    expect((await api.request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(1)
    // Letters of any script and emoji are names.
    expect((await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: "Ключ 🔑 日本" } })).status).toBe(201)
  })

  it("page and limit accept decimal integers only", async () => {
    const { jwt } = await api.user("paging")
    const { token } = await api.apiToken(jwt)
    for (const value of ["0x10", "1e3", "%201", "1%20", "+1", "1.0", "0b1", "01e1", "Infinity"]) {
      for (const param of ["page", "limit"]) {
        const r = await api.request("GET", `/api/v1/usage?${param}=${value}`, { bearer: token })
        expect(r.status, `${param}=${value}`).toBe(422)
      }
    }
    expect(
      (await api.request("GET", "/api/v1/usage?page=2&limit=10", { bearer: token })).body.pagination
    ).toMatchObject({ page: 2, limit: 10 })
  })

  it("a JSON body in a charset other than UTF-8: 415", async () => {
    for (const charset of ["utf-16le", "latin1", "utf-16"]) {
      const response = await fetch(`${server.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": `application/json; charset=${charset}` },
        body: Buffer.from(JSON.stringify({ email: "a@example.com", password: "x" }), "utf16le")
      })
      expect(response.status, charset).toBe(415)
      expect(typeof ((await response.json()) as { detail: string }).detail).toBe("string")
    }
    const utf8 = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=UTF-8" },
      body: JSON.stringify({ email: "a@example.com", password: "x" })
    })
    expect(utf8.status).toBe(401)
  })
})
