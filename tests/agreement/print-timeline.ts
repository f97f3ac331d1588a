/**
 * `pnpm exec tsx tests/agreement/print-timeline.ts [MAX_ROWS]`: the first sync of one key with a year of history
 * (the demo's "Production" key, seed 42), upstream call by call: which calls, how many analytics pages, how long,
 * what was recorded. MAX_ROWS (default 10000, OpenRouter's cap) lowers the simulator's analytics row cap to show
 * the paging on `truncated`. For the closing note of issue 8; no network but loopback.
 */
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from "@orw/server/Demo/Seed"
import { realisticScenario } from "@orw/server/OpenRouter/Simulator"
import { client } from "../http/support/client.js"
import { startServer } from "../http/support/server.js"

const maxRows = Number(process.argv[2] ?? 10_000)
const scenario = realisticScenario({ days: 365, seed: 42 })
const server = await startServer({}, { simulator: { scenario, analyticsMaxRows: maxRows } })
try {
  const api = client(server.url)
  await server.run(seedDemo(scenario))
  const login = await api.request("POST", "/api/auth/login", { json: { email: DEMO_EMAIL, password: DEMO_PASSWORD } })
  const jwt = login.body.access_token as string
  // The management key first (its own sync: /key, /credits), then the key with the year.
  await api.request("POST", "/api/keys/demo-key-1/sync", { bearer: jwt })
  const since = server.sim.requests.length
  const t0 = Date.now()
  const r = await api.request("POST", "/api/keys/demo-key-2/sync", { bearer: jwt })
  const ms = Date.now() - t0
  console.log(`First sync of "${r.body.key.name}" (a year of history), analytics row cap ${maxRows}:`)
  for (const q of server.sim.requests.slice(since)) {
    const what = q.endpoint === "/analytics/query" ? "" : q.endpoint === "/keys" ? ` offset=${q.query.offset ?? 0}` : ""
    console.log(`  +${String(q.at.getTime() - t0).padStart(5)} ms  ${q.method.padEnd(5)} ${q.endpoint}${what}`)
  }
  const calls = server.sim.requests.slice(since)
  const analytics = calls.filter((q) => q.endpoint === "/analytics/query").length
  const recorded = r.body.recorded as Array<{ type: string; date?: string }>
  const usage = recorded.filter((e) => e.type === "UsageRecorded")
  const days = new Set(usage.map((e) => e.date))
  console.log(
    `  ${calls.length} upstream calls (${analytics} POST /analytics/query: the year by day, paged on truncated, ` +
      `and today by hour); ${ms} ms in all; outcome ${r.body.outcome}`
  )
  console.log(
    `  recorded ${recorded.length} events: ${usage.length} UsageRecorded over ${days.size} days ` +
      `(${[...days].sort()[0]} … ${[...days].sort().at(-1)}), ${recorded.length - usage.length} other (${[
        ...new Set(recorded.filter((e) => e.type !== "UsageRecorded").map((e) => e.type))
      ].join(", ")})`
  )
} finally {
  await server.close()
}
