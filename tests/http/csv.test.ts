import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

/*
 * The CSV of usage (design.md section 9): `/api/v1/usage?format=csv` (API token) and `/api/usage?format=csv`
 * (session, the web app's export) hold the same rows as their JSON for the same filters, every page of them,
 * with RFC 4180 quoting; errors stay `{"detail"}` JSON.
 */

let server: TestServer
let api: ReturnType<typeof client>
let alice: { jwt: string; token: string; keys: { a: string; b: string } }

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)
/** Names a CSV must quote: a comma, a double quote, both. */
const ODD_MODEL = 'acme/model, "big"'
const ODD_KEY = 'ops, "night"'

const ACTIVITY = [
  { key: "a", ago: 3, model: "openai/gpt-4.1", usd: 0.123456, req: 5 },
  { key: "a", ago: 3, model: ODD_MODEL, usd: 1.000001, req: 2 },
  { key: "a", ago: 2, model: "openai/gpt-4.1", usd: 0.2, req: 3 },
  { key: "a", ago: 9, model: "anthropic/claude-sonnet-4", usd: 0.05, req: 1 },
  { key: "b", ago: 3, model: "openai/gpt-4.1", usd: 0.000001, req: 1 },
  { key: "b", ago: 5, model: ODD_MODEL, usd: 2.5, req: 7 },
  { key: "b", ago: 12, model: "anthropic/claude-sonnet-4", usd: 0.3, req: 4 }
] as const

/** A minimal RFC 4180 reader: quoted fields with doubled quotes, CRLF lines. */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
      i++
    } else field += c
  }
  if (field !== "" || row.length > 0) throw new Error(`CSV does not end with CRLF: ${JSON.stringify(text.slice(-20))}`)
  return rows
}

const expectCsv = (answer: Answer) => {
  expect(answer.status).toBe(200)
  expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8")
  expect(answer.headers.get("content-disposition")).toMatch(/^attachment; filename="usage-[\w.-]+\.csv"$/)
  return parseCsv(answer.text)
}

interface Row {
  date: string
  requests: number
  tokens_input: number
  tokens_output: number
  cost: number
}
/** The CSV line a JSON row must be: its figures as JSON writes them. */
const line = (row: Row, label: string) => [
  row.date,
  label,
  String(row.requests),
  String(row.tokens_input),
  String(row.tokens_output),
  String(row.cost)
]

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
  const user = await api.user("csv")
  const sim = { a: server.sim.addKey(), b: server.sim.addKey(), m: server.sim.addKey({ isManagementKey: true }) }
  for (const r of ACTIVITY) {
    server.sim.addUsage(sim[r.key], r.usd, {
      date: day(r.ago),
      model: r.model,
      provider: "OpenAI",
      requests: r.req,
      promptTokens: r.req * 10,
      completionTokens: r.req * 3
    })
  }
  const m = await api.addKey(user.jwt, sim.m, "management")
  const keys = { a: await api.addKey(user.jwt, sim.a, "prod"), b: await api.addKey(user.jwt, sim.b, ODD_KEY) }
  for (const id of [m, keys.a, keys.b]) {
    const synced = await api.request("POST", `/api/keys/${id}/sync`, { bearer: user.jwt })
    if (synced.body.outcome !== "ok") throw new Error(`sync: ${synced.text}`)
  }
  alice = { jwt: user.jwt, token: (await api.apiToken(user.jwt)).token, keys }
}, 60_000)
afterAll(() => server.close())

/** Every JSON row of /api/v1/usage for `query`, page after page (`limit` small, so there are several). */
const allJsonRows = async (query: string) => {
  const rows: Array<Row & { model: string }> = []
  for (let page = 1; ; page++) {
    const r = await api.request("GET", `/api/v1/usage?${query}&page=${page}&limit=2`, { bearer: alice.token })
    expect(r.status).toBe(200)
    rows.push(...r.body.items)
    if (page >= r.body.pagination.pages) return { rows, pages: r.body.pagination.pages as number }
  }
}

describe("GET /api/v1/usage as CSV", () => {
  it("the JSON's rows, every page, with the header of design.md; format=csv and Accept: text/csv alike", async () => {
    for (const query of ["", `start_date=${day(5)}&end_date=${day(2)}`, `key_id=${alice.keys.b}`]) {
      const json = await allJsonRows(query)
      expect(json.pages).toBeGreaterThan(1)
      const byFormat = expectCsv(
        await api.request("GET", `/api/v1/usage?${query}&format=csv&limit=1&page=2`, { bearer: alice.token })
      )
      const byAccept = expectCsv(
        await api.request("GET", `/api/v1/usage?${query}`, { bearer: alice.token, headers: { accept: "text/csv" } })
      )
      expect(byAccept).toEqual(byFormat)
      expect(byFormat[0]).toEqual(["date", "model", "requests", "tokens_input", "tokens_output", "cost"])
      expect(byFormat.slice(1)).toEqual(json.rows.map((r) => line(r, r.model)))
    }
  })

  it("quotes what needs quoting, and writes cost as the JSON's decimal", async () => {
    const r = await api.request("GET", `/api/v1/usage?format=csv&start_date=${day(3)}&end_date=${day(3)}`, {
      bearer: alice.token
    })
    expect(r.text).toContain(`${day(3)},"acme/model, ""big""",2,20,6,1.000001\r\n`)
    expect(r.text).toContain(`${day(3)},openai/gpt-4.1,6,60,18,0.123457\r\n`)
  })

  it("page and limit do not apply to the CSV, whatever their values; they still do to the JSON", async () => {
    const all = await api.request("GET", "/api/v1/usage?format=csv", { bearer: alice.token })
    expect(all.status).toBe(200)
    for (const query of ["format=csv&page=0&limit=5000", "limit=1&format=csv&page=2", "format=csv&page=x"]) {
      const r = await api.request("GET", `/api/v1/usage?${query}`, { bearer: alice.token })
      expect([query, r.status, r.text]).toEqual([query, 200, all.text])
    }
    const byAccept = await api.request("GET", "/api/v1/usage?limit=5000", {
      bearer: alice.token,
      headers: { accept: "text/csv" }
    })
    expect(byAccept.text).toBe(all.text)
    const json = await api.request("GET", "/api/v1/usage?limit=5000", { bearer: alice.token })
    expect(json.status).toBe(422)
    expect(json.body.detail).toContain("limit")
  })

  it("format=json and no Accept stay JSON; errors stay {detail} JSON", async () => {
    const json = await api.request("GET", "/api/v1/usage?format=json", {
      bearer: alice.token,
      headers: { accept: "text/csv" }
    })
    expect(json.headers.get("content-type")).toContain("application/json")
    expect(json.body.pagination.total).toBeGreaterThan(0)
    // Accept with weights: CSV only where text/csv is wanted at least as much as JSON.
    for (const [accept, csv] of [
      ["text/csv;q=0", false],
      ["application/json, text/csv;q=0.5", false],
      ["*/*", false],
      ["text/csv;q=0.9, application/json;q=0.5", true],
      ["TEXT/CSV", true],
      ["text/*, application/json;q=0.1", true]
    ] as const) {
      const r = await api.request("GET", "/api/v1/usage", { bearer: alice.token, headers: { accept } })
      expect([accept, r.headers.get("content-type")?.split(";")[0]]).toEqual([
        accept,
        csv ? "text/csv" : "application/json"
      ])
    }
    const cases = [
      ["format=csv&key_id=no-such-key", 404],
      [`format=csv&start_date=${day(1)}&end_date=${day(2)}`, 400],
      ["format=csv&start_date=2024-02-30", 422],
      ["format=xml", 422]
    ] as const
    for (const [query, status] of cases) {
      const r = await api.request("GET", `/api/v1/usage?${query}`, { bearer: alice.token })
      expect([query, r.status]).toEqual([query, status])
      expect(r.headers.get("content-type")).toContain("application/json")
      expect(typeof r.body.detail).toBe("string")
    }
    const anonymous = await api.request("GET", "/api/v1/usage?format=csv")
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.detail).toBeTypeOf("string")
  })

  it("is documented in /openapi.json", async () => {
    const spec = (await api.request("GET", "/openapi.json")).body
    for (const path of ["/api/v1/usage", "/api/usage"]) {
      const get = spec.paths[path].get
      expect(Object.keys(get.responses["200"].content)).toEqual(["application/json", "text/csv"])
      expect(get.parameters.map((p: { name: string }) => p.name)).toContain("format")
    }
  })
})

describe("GET /api/usage (session): the explorer's rows as JSON or CSV", () => {
  const explore = (query: string, accept?: string) =>
    api.request("GET", `/api/usage?start_date=${day(13)}&end_date=${day(0)}&${query}`, {
      bearer: alice.jwt,
      ...(accept === undefined ? {} : { headers: { accept } })
    })

  it("per day and model over every key: /api/v1/usage's rows", async () => {
    const v1 = await allJsonRows(`start_date=${day(13)}&end_date=${day(0)}`)
    const r = await explore("")
    expect(r.status).toBe(200)
    expect(r.body.rows.map((row: Row & { label: string }) => line(row, row.label))).toEqual(
      v1.rows.map((row) => line(row, row.model))
    )
    expect(expectCsv(await explore("format=csv")).slice(1)).toEqual(v1.rows.map((row) => line(row, row.model)))
  })

  it("CSV rows == JSON rows for every grouping, several keys and models, and any sort", async () => {
    const queries = [
      "group=week&by=model&sort=cost&order=desc",
      `group=month&by=key&key_id=${alice.keys.a}&key_id=${alice.keys.b}`,
      `group=day&by=key&model=${encodeURIComponent(ODD_MODEL)}&model=openai%2Fgpt-4.1&sort=label`,
      `key_id=${alice.keys.b}&sort=requests&order=desc`
    ]
    for (const query of queries) {
      const json = await explore(query)
      expect([query, json.status]).toEqual([query, 200])
      const csv = expectCsv(await explore(`${query}&format=csv`))
      expect(csv[0]).toEqual(["date", json.body.split, "requests", "tokens_input", "tokens_output", "cost"])
      expect(csv.slice(1)).toEqual(json.body.rows.map((row: Row & { label: string }) => line(row, row.label)))
      expect(expectCsv(await explore(query, "text/csv"))).toEqual(csv)
      expect(csv.length).toBeGreaterThan(1)
    }
  })

  it("groups exactly: key b's rows per key and month sum to its usage; a key's name is quoted", async () => {
    const r = await explore(`by=key&group=month&key_id=${alice.keys.b}&format=csv`)
    const rows = expectCsv(r).slice(1)
    const b = ACTIVITY.filter((a) => a.key === "b")
    expect(rows.every((row) => row[1] === ODD_KEY)).toBe(true)
    expect(rows.reduce((n, row) => n + Number(row[2]), 0)).toBe(b.reduce((n, a) => n + a.req, 0))
    expect(r.text).toContain(`,"ops, ""night""",`)
    const json = await explore(`by=key&group=month&key_id=${alice.keys.b}`)
    expect(json.body.totals.cost).toBe(2.800001)
  })

  it("errors stay {detail} JSON; API tokens and no session are refused", async () => {
    const foreign = await api.user("mallory")
    const cases = [
      [explore("format=csv&key_id=no-such-key"), 404],
      [explore("format=csv&group=year"), 422],
      [api.request("GET", `/api/usage?format=csv&start_date=${day(400)}`, { bearer: alice.jwt }), 400],
      [api.request("GET", `/api/usage?format=csv&key_id=${alice.keys.a}`, { bearer: foreign.jwt }), 403],
      [api.request("GET", "/api/usage?format=csv", { bearer: alice.token }), 401],
      [api.request("GET", "/api/usage?format=csv"), 401]
    ] as const
    for (const [answer, status] of cases) {
      const r = await answer
      expect([r.status, r.headers.get("content-type")]).toEqual([status, expect.stringContaining("application/json")])
      expect(r.body.detail).toBeTypeOf("string")
    }
  })
})
