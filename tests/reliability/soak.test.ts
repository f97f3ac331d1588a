import { monitorEventLoopDelay } from "node:perf_hooks"
import { afterAll, beforeAll, expect, it } from "vitest"
import { postRpc } from "../e2e/support/rpc.js"
import { client } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"
import { SOAK } from "./support/state.js"

/*
 * Steady mixed load for ORW_SOAK_MINUTES (10 by default) with 8 workers, bounded in count and time, on
 * loopback: reads of keys and v1, RPC dashboards, token create/revoke, syncs, logins. RSS and event-loop delay
 * are sampled every 10 s; after a minute of warm-up both must stay flat, and no request may fail. Runs only
 * under `pnpm test:soak` (the server is in this process, so the figures include the load generator).
 */

const MINUTES = Number(process.env.ORW_SOAK_MINUTES ?? 10)
const WORKERS = 8
const MAX_REQUESTS = 2_000_000

let server: TestServer
beforeAll(async () => {
  // The v1 limit per token is a feature, not what this measures: high enough for ten minutes of load.
  if (SOAK) server = await startServer({ rateLimitRequests: 100_000_000 })
})
afterAll(() => server?.close())

it.runIf(SOAK)(
  `soak: ${MINUTES} minutes of mixed load, RSS and event-loop delay flat, zero errors`,
  async () => {
    const api = client(server.url)
    const u = await api.user("soak")
    const { token } = await api.apiToken(u.jwt)
    const simKey = server.sim.addKey()
    server.sim.addUsage(simKey, 3)
    const keyId = await api.addKey(u.jwt, simKey)
    const rpcHeaders = { origin: server.url, cookie: `orw_session=${u.jwt}` }
    const delay = monitorEventLoopDelay({ resolution: 10 })
    delay.enable()
    const until = Date.now() + MINUTES * 60_000
    const samples: Array<{ at: number; rssMiB: number; eldP99Ms: number; eldMaxMs: number; requests: number }> = []
    const errors: Array<string> = []
    let requests = 0
    const started = Date.now()
    const sampler = setInterval(() => {
      samples.push({
        at: Math.round((Date.now() - started) / 1000),
        rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
        eldP99Ms: Math.round(delay.percentile(99) / 1e6),
        eldMaxMs: Math.round(delay.max / 1e6),
        requests
      })
      delay.reset()
    }, 10_000)
    const expectStatus = (what: string, status: number, wanted: number) => {
      if (status !== wanted) errors.push(`${what}: ${status}`)
    }
    const step = async (i: number) => {
      switch (i % 8) {
        case 0:
          return expectStatus("keys", (await api.request("GET", "/api/keys", { bearer: u.jwt })).status, 200)
        case 1:
          return expectStatus("stats", (await api.request("GET", "/api/v1/stats", { bearer: token })).status, 200)
        case 2:
          return expectStatus(
            "usage",
            (await api.request("GET", "/api/v1/usage?limit=10", { bearer: token })).status,
            200
          )
        case 3: {
          const r = await postRpc(server.url, "dashboard", rpcHeaders)
          return expectStatus("rpc dashboard", r.text.includes('"Success"') ? 200 : 500, 200)
        }
        case 4: {
          const created = await api.request("POST", "/api/tokens", { bearer: u.jwt, json: { name: `soak-${i}` } })
          expectStatus("token", created.status, 201)
          return expectStatus(
            "revoke",
            (await api.request("DELETE", `/api/tokens/${created.body.id}`, { bearer: u.jwt })).status,
            204
          )
        }
        case 5:
          return i % 40 === 5
            ? expectStatus(
                "sync",
                (await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: u.jwt })).status,
                200
              )
            : expectStatus("me", (await api.request("GET", "/api/users/me", { bearer: u.jwt })).status, 200)
        case 6:
          return i % 80 === 6
            ? expectStatus(
                "login",
                (await api.request("POST", "/api/auth/login", { json: { email: u.email, password: u.password } }))
                  .status,
                200
              )
            : expectStatus("v1 keys", (await api.request("GET", "/api/v1/keys", { bearer: token })).status, 200)
        default:
          return expectStatus("healthz", (await api.request("GET", "/healthz")).status, 200)
      }
    }
    await Promise.all(
      Array.from({ length: WORKERS }, async (_, w) => {
        for (let i = w; Date.now() < until && requests < MAX_REQUESTS && errors.length < 20; i += WORKERS) {
          await step(i)
          requests++
        }
      })
    )
    clearInterval(sampler)
    delay.disable()
    console.info(
      `soak: ${requests} requests in ${Math.round((Date.now() - started) / 1000)} s, ${errors.length} errors`
    )
    console.info(`soak samples: ${JSON.stringify(samples)}`)
    expect(errors).toEqual([])
    const steady = samples.filter((s) => s.at >= 60)
    expect(steady.length).toBeGreaterThanOrEqual(Math.max(1, MINUTES * 6 - 8))
    const first = steady.slice(0, 3).map((s) => s.rssMiB)
    const last = steady.slice(-3).map((s) => s.rssMiB)
    const mean = (xs: Array<number>) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
    expect(mean(last) - mean(first)).toBeLessThan(64)
    for (const s of steady) expect(s.eldP99Ms, `event-loop delay p99 at ${s.at}s`).toBeLessThan(250)
  },
  (MINUTES + 3) * 60_000
)
