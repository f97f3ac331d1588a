// The floor of the HTTP read benchmarks: bare node:http + better-sqlite3 answering /api/v1/stats,
// /api/v1/usage and /healthz with the same JSON as the production server, by the same SQL (the token
// checked by its SHA-256 as the server does). `node bench/lib/bare-server.mjs <db file>`; prints the port.
import * as NodeCrypto from "node:crypto"
import * as NodeHttp from "node:http"
import { createRequire } from "node:module"

const require = createRequire(new URL("../../packages/server/package.json", import.meta.url))
const Database = require("better-sqlite3")
const db = new Database(process.argv[2], { readonly: true })

const U = "unattributed"
const EFFECTIVE = `(u.model <> '${U}' OR NOT EXISTS (SELECT 1 FROM usage_stats a
  WHERE a.api_key_id = u.api_key_id AND a.date = u.date AND a.model <> '${U}'))`
const SUMS = `SUM(u.requests_count) AS requests, SUM(u.tokens_input) AS tokens_input,
  SUM(u.tokens_output) AS tokens_output, SUM(u.cost_micros) AS cost_micros`
const token = db.prepare("SELECT user_id FROM api_tokens WHERE token_hash = ? AND is_active = 1")
// The server's statements (packages/server/src/Projections/UsageStats.ts), prepared once per shape of range.
const statements = new Map()
const prepared = (name, start, end) => {
  const key = `${name}|${start !== null}|${end !== null}`
  let statement = statements.get(key)
  if (statement === undefined) {
    const where = [
      "u.user_id = ?",
      ...(start === null ? [] : ["u.date >= ?"]),
      ...(end === null ? [] : ["u.date <= ?"]),
      EFFECTIVE
    ].join(" AND ")
    const text = {
      byModel: `SELECT u.model AS model, ${SUMS} FROM usage_stats u WHERE ${where} GROUP BY u.model`,
      page: `SELECT u.date AS date, u.model AS model, ${SUMS} FROM usage_stats u WHERE ${where}
        GROUP BY u.date, u.model ORDER BY u.date, u.model LIMIT ? OFFSET ?`,
      count: `SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM usage_stats u WHERE ${where} GROUP BY u.date, u.model) g`
    }[name]
    statement = db.prepare(text)
    statements.set(key, statement)
  }
  return statement
}

const usd = (micros) => Number((micros / 1_000_000).toFixed(6))
const send = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  res.end(body)
}

NodeHttp.createServer((req, res) => {
  const url = new URL(req.url, "http://x")
  if (url.pathname === "/healthz") return send(res, 200, '{"status":"ok"}')
  const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "")
  const user = token.get(NodeCrypto.createHash("sha256").update(bearer, "utf8").digest("hex"))
  if (user === undefined) return send(res, 401, '{"detail":"Invalid API token"}')
  const start = url.searchParams.get("start_date")
  const end = url.searchParams.get("end_date")
  const range = [user.user_id, ...(start === null ? [] : [start]), ...(end === null ? [] : [end])]
  if (url.pathname === "/api/v1/stats") {
    const rows = prepared("byModel", start, end)
      .all(...range)
      .sort((a, b) => b.cost_micros - a.cost_micros || a.model.localeCompare(b.model))
    const t = { requests: 0, cost: 0, tin: 0, tout: 0 }
    for (const r of rows) {
      t.requests += r.requests
      t.cost += r.cost_micros
      t.tin += r.tokens_input
      t.tout += r.tokens_output
    }
    return send(
      res,
      200,
      JSON.stringify({
        summary: {
          total_requests: t.requests,
          total_cost: usd(t.cost),
          total_tokens_input: t.tin,
          total_tokens_output: t.tout
        },
        by_model: rows.map((r) => ({
          model: r.model,
          requests: r.requests,
          cost: usd(r.cost_micros),
          tokens_input: r.tokens_input,
          tokens_output: r.tokens_output
        }))
      })
    )
  }
  if (url.pathname === "/api/v1/usage") {
    const p = Number(url.searchParams.get("page") ?? 1)
    const limit = Number(url.searchParams.get("limit") ?? 100)
    const today = new Date().toISOString().slice(0, 10)
    const items = prepared("page", start, end)
      .all(...range, limit, (p - 1) * limit)
      .map((r) => ({
        date: r.date,
        model: r.model,
        requests: r.requests,
        tokens_input: r.tokens_input,
        tokens_output: r.tokens_output,
        cost: usd(r.cost_micros),
        estimated: r.date >= today || r.model === U
      }))
    const total = prepared("count", start, end).get(...range).n
    return send(
      res,
      200,
      JSON.stringify({ items, pagination: { page: p, limit, total, pages: Math.ceil(total / limit) } })
    )
  }
  send(res, 404, '{"detail":"Not Found"}')
}).listen(0, "127.0.0.1", function () {
  console.log(this.address().port)
})
