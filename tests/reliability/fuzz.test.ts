import { WebRpcs } from "@orw/domain/Rpc"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { orw } from "../cli/fixture.js"
import { client, fakeKey } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"
import { type ApiRoute, apiRoutes, fillPath, SOAK, stateDigest } from "./support/state.js"

/*
 * Fuzz every JSON and v1 route (from the OpenAPI reflection), every RPC (from the RpcGroup) and the CLI:
 * never a 5xx, every refusal is `{"detail"}`, and a refused request leaves the log and tables as they were.
 */

const RUNS = SOAK ? { http: 3_000, rpc: 1_000, cli: 60 } : { http: 250, rpc: 120, cli: 6 }

let server: TestServer
let api: ReturnType<typeof client>
let me: { jwt: string; token: string; keyId: string; tokenId: string; password: string }
let other: { keyId: string; tokenId: string }

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
  const a = await api.user("fuzz")
  const keyId = await api.addKey(a.jwt)
  const token = await api.apiToken(a.jwt)
  me = { jwt: a.jwt, token: token.token, keyId, tokenId: token.id, password: a.password }
  const b = await api.user("other")
  other = { keyId: await api.addKey(b.jwt), tokenId: (await api.apiToken(b.jwt)).id }
})
afterAll(() => server.close())

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`
const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "0x10",
    "1e3",
    "-1",
    "NaN",
    "2024-13-01",
    "2024-02-30",
    "%00",
    "../..",
    "\u202E",
    "a\u0000b"
  ),
  fc.constantFrom("x".repeat(5_000), "é".repeat(300))
)
const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 4 }), weirdString, fc.constant(null))
const bodyText = (fields: ReadonlyArray<string>) =>
  fc.oneof(
    // The right field names with wrong values.
    fc.dictionary(fc.constantFrom(...fields, "extra"), jsonValue, { maxKeys: 5 }).map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)),
    weirdString,
    fc.constantFrom(nested(40), nested(2_400), "{", '{"a":', "[1,2", '"\\ud800"', "\u0000", "null", "{}"),
    fc.constant("x".repeat(1024 * 1024 + 10))
  )
const FIELDS = ["email", "password", "password_confirm", "name", "key", "is_active", "current_password", "new_password"]
const contentType = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=utf-16le",
  "APPLICATION/JSON",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/json; charset"
)
const credential = fc.constantFrom("none", "jwt", "token", "garbage", "cookie", "cookie+origin")
const idValue = fc.oneof(
  fc.constantFrom("own-key", "own-token", "other-key", "other-token"),
  weirdString.filter((s) => s.length > 0)
)
const query = fc.dictionary(
  fc.constantFrom("page", "limit", "start_date", "end_date", "key_id", "x", "page[]"),
  weirdString,
  { maxKeys: 4 }
)

const request = fc.record({
  route: fc.constantFrom(...apiRoutes()),
  id: idValue,
  body: bodyText(FIELDS),
  contentType,
  credential,
  query,
  encoding: fc.constantFrom(undefined, "gzip", "br", "identity")
})

const idFor = (value: string) =>
  ({ "own-key": me.keyId, "own-token": me.tokenId, "other-key": other.keyId, "other-token": other.tokenId })[value] ??
  value

const headersFor = (credentialKind: string, type: string | undefined, encoding: string | undefined) => {
  const headers: Record<string, string> = {}
  if (type !== undefined) headers["content-type"] = type
  if (encoding !== undefined) headers["content-encoding"] = encoding
  if (credentialKind === "jwt") headers.authorization = `Bearer ${me.jwt}`
  if (credentialKind === "token") headers.authorization = `Bearer ${me.token}`
  if (credentialKind === "garbage") headers.authorization = "Bearer not.a.jwt"
  if (credentialKind.startsWith("cookie")) headers.cookie = `orw_session=${me.jwt}`
  if (credentialKind === "cookie+origin") headers.origin = server.url
  return headers
}

/** Changes a successful request may make are fine; a refused one must change nothing. */
const send = async (route: ApiRoute, path: string, init: RequestInit) => {
  const before = await server.run(stateDigest)
  const response = await fetch(`${server.url}${path}`, { ...init, method: route.method })
  const text = await response.text()
  const after = await server.run(stateDigest)
  return { status: response.status, text, changed: before !== after }
}

describe("fuzz: the JSON and v1 API", () => {
  it(`${RUNS.http} random requests over every route: no 5xx, {detail} on every refusal, nothing changed by one`, async () => {
    // Deleting the account or logging out would end the fuzzing user: those run with a wrong password/no session.
    const skipSuccess = new Set(["deleteAccount", "logout", "changePassword"])
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const path = fillPath(r.route, () => idFor(r.id))
        const search = new URLSearchParams(r.query).toString()
        const credentialKind = skipSuccess.has(r.route.name) && r.credential !== "none" ? "garbage" : r.credential
        const init: RequestInit = {
          headers: headersFor(credentialKind, r.contentType, r.encoding),
          ...(r.route.hasBody || r.route.method === "POST" ? { body: r.body } : {})
        }
        const answer = await send(r.route, search === "" ? path : `${path}?${search}`, init)
        expect(answer.status, `${r.route.method} ${path}: ${answer.text.slice(0, 200)}`).toBeLessThan(500)
        if (answer.status >= 400) {
          const body = JSON.parse(answer.text) as { detail?: unknown }
          expect(typeof body.detail, answer.text).toBe("string")
          expect(answer.changed, `${r.route.method} ${path} ${answer.status} changed the state`).toBe(false)
        }
      }),
      { numRuns: RUNS.http, endOnFailure: true }
    )
  }, 600_000)
})

describe("fuzz: the web RPC", () => {
  const tags = [...WebRpcs.requests.keys()]
  const call = fc.record({
    tag: fc.oneof(fc.constantFrom(...tags), weirdString),
    payload: fc.oneof(
      fc.dictionary(
        fc.constantFrom("name", "key", "key_id", "token_id", "password", "is_active", "start_date"),
        jsonValue,
        {
          maxKeys: 4
        }
      ),
      jsonValue
    ),
    id: fc.oneof(fc.constant("1"), jsonValue),
    envelope: fc.constantFrom("request", "raw", "array")
  })
  it(`${RUNS.rpc} random calls: no 5xx, no echo of the payload, nothing changed by a refused one`, async () => {
    const secret = fakeKey()
    await fc.assert(
      fc.asyncProperty(call, async (c) => {
        // Destructive calls with a valid payload would end the session: they run with a wrong password.
        const payload =
          c.tag === "deleteAccount" || c.tag === "changePassword"
            ? { password: secret, current_password: secret }
            : c.payload
        const message = { _tag: "Request", id: c.id, tag: c.tag, payload, headers: [] }
        const body =
          c.envelope === "request"
            ? JSON.stringify(message)
            : c.envelope === "array"
              ? JSON.stringify([message])
              : typeof c.payload === "string"
                ? c.payload
                : JSON.stringify(c.payload)
        const before = await server.run(stateDigest)
        const response = await fetch(`${server.url}/rpc`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: server.url, cookie: `orw_session=${me.jwt}` },
          body
        })
        const text = await response.text()
        const after = await server.run(stateDigest)
        expect(response.status, text.slice(0, 200)).toBeLessThan(500)
        expect(text).not.toContain(secret.slice(9))
        const failed = response.status >= 400 || /"_tag":"(Failure|Defect)"|"Die"|"Fail"/.test(text)
        if (failed) expect(before === after, `${c.tag}: ${text.slice(0, 200)}`).toBe(true)
      }),
      { numRuns: RUNS.rpc, endOnFailure: true }
    )
  }, 600_000)
})

describe("fuzz: the CLI", () => {
  const commands = [
    ["events", "list"],
    ["events", "list", "--json", "--limit"],
    ["keys", "list"],
    ["projections", "status"],
    ["projections", "rebuild"],
    ["replay"],
    ["sync"],
    ["nope"]
  ]
  it(`${RUNS.cli} random invocations: a refusal is one line on stderr (no stack), the database unchanged`, async () => {
    const env = { DATABASE_URL: `sqlite:///${server.databaseFile}`, DATA_DIR: server.dir }
    const args = fc.tuple(
      fc.constantFrom(...commands),
      fc.array(
        weirdString.filter((s) => !s.includes("\u0000")),
        { maxLength: 3 }
      )
    )
    await fc.assert(
      fc.asyncProperty(args, async ([command, extra]) => {
        const before = await server.run(stateDigest)
        const run = await orw([...command, ...extra], env)
        const after = await server.run(stateDigest)
        expect(run.stderr).not.toMatch(/\n\s+at /)
        if (run.code !== 0) {
          expect(run.stderr.trim().length).toBeGreaterThan(0)
          expect(before === after, `${command.join(" ")} ${JSON.stringify(extra)}`).toBe(true)
        }
      }),
      { numRuns: RUNS.cli, endOnFailure: true }
    )
  }, 600_000)
})
