/**
 * `pnpm exec tsx tests/agreement/print-totals.ts`: for the demo user (the demo's own scenario: a year of
 * usage, a management key), prints the same totals from every screen and route side by side, and the
 * first-sync timeline of a key with a year of history. For the closing note of issue 8; no network but loopback.
 */
import { applyEvent, emptySnapshot, spendOf } from "@orw/cli/src/ReplayState.js"
import { ApiKeyId, allTimeCheck, UserId, UtcDate } from "@orw/domain"
import { originOf } from "@orw/server/App/Origin"
import { DEMO_EMAIL, DEMO_PASSWORD, seedDemo } from "@orw/server/Demo/Seed"
import { EventStore } from "@orw/server/EventStore"
import { KeySync } from "@orw/server/OpenRouter/KeySync"
import { realisticScenario } from "@orw/server/OpenRouter/Simulator"
import { dashboard } from "@orw/server/Rpc/Dashboard"
import { Effect } from "effect"
import { client } from "../http/support/client.js"
import { startServer } from "../http/support/server.js"

const scenario = realisticScenario({ days: 365, seed: 42 })
const server = await startServer({}, { simulator: { scenario } })
try {
  const api = client(server.url)
  await server.run(seedDemo(scenario))
  const login = await api.request("POST", "/api/auth/login", { json: { email: DEMO_EMAIL, password: DEMO_PASSWORD } })
  const jwt = login.body.access_token as string
  const token = (await api.apiToken(jwt)).token
  const t0 = Date.now()
  const since = server.sim.requests.length
  const positionBefore = await server.run(
    Effect.map(
      Effect.flatMap(EventStore, (s) => s.readAll(0, 1_000_000)),
      (e) => e.length
    )
  )
  // The first sync of each key, the management key first (as the demo's supervisor gets to it).
  const syncs: Array<{ name: string; ms: number; recorded: number }> = []
  for (let i = 1; i <= scenario.keys.length; i++) {
    const started = Date.now()
    const r = await api.request("POST", `/api/keys/demo-key-${i}/sync`, { bearer: jwt })
    syncs.push({ name: r.body.key.name, ms: Date.now() - started, recorded: r.body.recorded.length })
  }
  const syncEnd = server.sim.requests.length
  const today = new Date().toISOString().slice(0, 10)
  const rows = (await api.request("GET", "/api/keys", { bearer: jwt })).body.items as Array<{
    id: string
    name: string
    spend_today: number
    spend_total: number
    usage_daily: number | null
    usage_total: number | null
  }>
  const v1 = async (path: string) => (await api.request("GET", path, { bearer: token })).body
  const usageAll = async (query: string) => {
    let sum = 0
    for (let page = 1; ; page++) {
      const r = await v1(`/api/v1/usage?limit=1000&page=${page}${query}`)
      sum += r.items.reduce((n: number, i: { cost: number }) => n + Math.round(i.cost * 1e6), 0)
      if (page >= r.body?.pagination?.pages || page >= r.pagination.pages) break
    }
    return sum / 1e6
  }
  const userId = UserId.make("demo-user")
  const board = (start: string) =>
    server.run(dashboard(userId, { start_date: UtcDate.make(start), end_date: UtcDate.make(today) }))
  const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString().slice(0, 10)
  const snapshot = await server.run(
    Effect.map(
      Effect.flatMap(EventStore, (s) => s.readAll(0, 1_000_000)),
      (events) => {
        const snap = emptySnapshot()
        for (const e of events) applyEvent(snap, e.event)
        return snap
      }
    )
  )
  const replay = [...snapshot.keys.values()].filter((k) => k.userId === userId).map((k) => spendOf(k.usage, today))
  // The reconciliation's all-time check (Reconciliation/Decider.ts), per key on the folded log: what it compares.
  const baselines = new Map<string, number>()
  for (const e of await server.run(Effect.flatMap(EventStore, (s) => s.readAll(0, 1_000_000)))) {
    if (e.event._tag === "KeyStatusRecorded" && !baselines.has(e.event.keyId))
      baselines.set(e.event.keyId, e.event.status.usage)
  }
  const checks = [...snapshot.keys.values()]
    .filter((k) => k.userId === userId && k.state._tag === "Present" && k.state.status !== null)
    .map((k) => {
      const status = k.state._tag === "Present" ? k.state.status : null
      return {
        name: k.state._tag === "Present" ? k.state.name : k.keyId,
        ...allTimeCheck(
          k.usage,
          status ?? { usage: 0, usageDaily: 0 },
          (baselines.get(k.keyId) ?? null) as never,
          today
        )
      }
    })
  const micro = (n: number) => n.toFixed(6)
  const sum = (xs: Array<number>) => xs.reduce((n, x) => n + Math.round(x * 1e6), 0) / 1e6
  const lines: Array<[string, string, string]> = [
    [
      "keys page (sum of rows: Today / All time recorded)",
      micro(sum(rows.map((r) => r.spend_today))),
      micro(sum(rows.map((r) => r.spend_total)))
    ],
    [
      "dashboard (RPC, today / 366-day range)",
      micro((await board(today)).summary.total_cost),
      micro((await board(yearAgo)).summary.total_cost)
    ],
    [
      "/api/v1/stats (today / all time)",
      micro((await v1(`/api/v1/stats?start_date=${today}&end_date=${today}`)).summary.total_cost),
      micro((await v1("/api/v1/stats")).summary.total_cost)
    ],
    ["/api/v1/usage (sum of rows)", micro(await usageAll(`&start_date=${today}`)), micro(await usageAll(""))],
    [
      "/api/v1/keys (sum of total_cost)",
      "-",
      micro(sum((await v1("/api/v1/keys")).items.map((k: { stats: { total_cost: number } }) => k.stats.total_cost)))
    ],
    [
      "orw replay (log folded, domain rules)",
      micro(replay.reduce((n, s) => n + s.today.cost, 0) / 1e6),
      micro(replay.reduce((n, s) => n + s.total.cost, 0) / 1e6)
    ],
    [
      "OpenRouter's own /key counters (reference)",
      micro(sum(rows.map((r) => r.usage_daily ?? 0))),
      micro(sum(rows.map((r) => r.usage_total ?? 0)))
    ]
  ]
  const reconciled = []
  for (let i = 1; i <= scenario.keys.length; i++) {
    reconciled.push(
      await server.run(
        Effect.flatMap(KeySync, (sync) => sync.reconcileKey(ApiKeyId.make(`demo-key-${i}`), originOf("cli"), null))
      )
    )
  }
  const checked = (f: (c: (typeof checks)[number]) => number) => micro(checks.reduce((n, c) => n + f(c), 0) / 1e6)
  lines.push(
    ["reconciliation all-time check: recorded", "-", checked((c) => c.recorded)],
    ["reconciliation all-time check: OpenRouter usage", "-", checked((c) => c.upstream)]
  )
  console.log(`Demo user ${DEMO_EMAIL}, today ${today} (UTC), USD`)
  console.log(`${"screen / route".padEnd(52)} ${"today".padStart(14)} ${"all time".padStart(14)}`)
  for (const [name, a, b] of lines) console.log(`${name.padEnd(52)} ${a.padStart(14)} ${b.padStart(14)}`)
  console.log(
    "\nReconciliation all-time check per key (micro-dollars; tolerance = 1 + half a micro-dollar per per-model row):"
  )
  for (const c of checks) {
    const gap = c.upstream - c.recorded
    console.log(
      `  ${c.name.padEnd(16)} recorded ${String(c.recorded).padStart(11)}  OpenRouter ${String(c.upstream).padStart(11)}  ` +
        `gap ${String(gap).padStart(4)}  tolerance ${String(c.tolerance).padStart(5)}  ${Math.abs(gap) <= c.tolerance ? "agree" : "DISCREPANCY"}`
    )
  }
  const reconcileCalls = server.sim.requests.slice(syncEnd)
  console.log(
    `  a reconciliation pass right after the first syncs (${reconcileCalls.length} upstream calls: ` +
      `${[...new Set(reconcileCalls.map((r) => r.endpoint))].join(", ")}): ${reconciled.map((r) => `${r.outcome}, ${r.found.length} found`).join("; ")}`
  )

  console.log("\nFirst-sync timeline (ms from the first call; upstream requests, then what was recorded):")
  for (const r of server.sim.requests.slice(since, syncEnd)) {
    const name = scenario.keys.find((k) => k.hash === r.keyHash)?.name ?? "?"
    const q =
      r.endpoint === "/activity"
        ? ` hash=${String(r.query.api_key_hash).slice(0, 8)}…`
        : r.endpoint === "/keys"
          ? ` offset=${r.query.offset ?? 0}`
          : ""
    console.log(
      `  +${String(r.at.getTime() - t0).padStart(5)} ms  ${r.method.padEnd(5)} ${r.endpoint}${q}  (as ${name})`
    )
  }
  for (const s of syncs)
    console.log(`  sync of ${s.name.padEnd(16)} ${String(s.ms).padStart(5)} ms, ${s.recorded} events recorded`)
  const after = await server.run(Effect.flatMap(EventStore, (s) => s.readAll(positionBefore, 1_000_000)))
  const production = after.filter((e) => e.event._tag === "UsageRecorded" && e.event.keyId === "demo-key-2")
  const dates = production.map((e) => (e.event._tag === "UsageRecorded" ? e.event.date : "")).sort()
  console.log(
    `  Production: ${production.length} UsageRecorded events, days ${dates[0]} … ${dates.at(-1)} (${new Set(dates).size} distinct days)`
  )
} finally {
  await server.close()
}
