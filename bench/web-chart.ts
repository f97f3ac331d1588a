/**
 * `web.chart` (issue 14): in headless Debian chromium (playwright-core, the e2e suite's flags), the time from
 * `page.goto("/dashboard")` to the dashboard's chart drawn — a mark of the `orw-chart` SVG, or a `canvas`
 * inside `orw-chart` (the uPlot chart of another branch) — for a signed-in user whose two keys carry a year
 * of daily usage over 10 models (imported through the management key's analytics, as on connect: 7,280
 * rows). Median of 5 navigations (from about:blank, browser cache warm as for a returning user).
 * Reference: the same navigation to a static loopback page holding one inline SVG (the browser's floor for
 * "navigate and paint").
 */
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { launch } from "../tests/e2e/support/browser.js"
import { startApp } from "../tests/e2e/support/server.js"
import { lowerIsBetter, type Row } from "./lib/results.js"
import { build } from "./web.js"

const ROUNDS = 5
const TIMEOUT_MS = 30_000
const EMAIL = "chart@example.com"
const PASSWORD = "Chart-bench-2026!"
const MODELS = Array.from({ length: 10 }, (_, i) => `vendor/model-${i + 1}`)
const CHART = "orw-chart svg .mark, orw-chart svg .line, orw-chart canvas"

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)

const json = async (origin: string, method: string, path: string, body?: unknown, bearer?: string) => {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      origin,
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` })
    },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS)
  })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>)
}

const staticPage = () =>
  new Promise<{ readonly url: string; readonly close: () => Promise<void> }>((resolve) => {
    const server = NodeHttp.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" })
      res.end('<!doctype html><svg width="400" height="200"><rect class="mark" width="10" height="10"/></svg>')
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(() => done())) })
    })
  })

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

const run = async (): Promise<ReadonlyArray<Row>> => {
  if (!NodeFs.existsSync("/usr/bin/chromium")) throw new Error("web.chart needs /usr/bin/chromium")
  await build()
  const simulator = new Simulator()
  const management = simulator.addKey({ isManagementKey: true })
  const keys = [simulator.addKey({ name: "production" }), simulator.addKey({ name: "staging" })]
  let rows = 0
  for (const [k, key] of keys.entries())
    for (let d = 1; d <= 364; d++)
      for (const [m, model] of MODELS.entries()) {
        simulator.addUsage(key, ((d * 31 + m * 17 + k * 7) % 500) / 1000 + 0.001, {
          date: day(d),
          model,
          requests: 1 + ((d + m) % 20)
        })
        rows++
      }
  const app = await startApp(simulator)
  const browser = await launch()
  const bare = await staticPage()
  try {
    await json(app.origin, "POST", "/api/auth/register", {
      email: EMAIL,
      password: PASSWORD,
      password_confirm: PASSWORD
    })
    const login = await json(app.origin, "POST", "/api/auth/login", { email: EMAIL, password: PASSWORD })
    const jwt = String(login.access_token)
    const add = async (key: string, name: string) =>
      String((await json(app.origin, "POST", "/api/keys", { name, key }, jwt)).id)
    const managementId = await add(management, "management")
    await json(app.origin, "POST", `/api/keys/${managementId}/sync`, undefined, jwt)
    for (const [i, key] of keys.entries()) {
      const id = await add(key, `key ${i + 1}`)
      await json(app.origin, "POST", `/api/keys/${id}/sync`, undefined, jwt)
    }
    const { page } = browser
    page.setDefaultTimeout(TIMEOUT_MS)
    await page.goto(`${app.origin}/login`)
    await page.getByLabel("Email").fill(EMAIL)
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD)
    await page.getByRole("button", { name: "Sign in" }).click()
    await page.waitForURL("**/dashboard")
    await page.locator(CHART).first().waitFor()
    const times: Array<number> = []
    const bareTimes: Array<number> = []
    const phases: Array<{ dcl: number; rpcStart: number; rpcEnd: number; drawn: number }> = []
    for (let round = 0; round < ROUNDS; round++) {
      await page.goto("about:blank")
      const started = performance.now()
      await page.goto(`${app.origin}/dashboard`)
      await page.locator(CHART).first().waitFor()
      times.push(performance.now() - started)
      // Where the time went, from the page's own clock (ms after its navigation started).
      phases.push(
        await page.evaluate(() => {
          const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined
          const rpc = performance.getEntriesByType("resource").filter((e) => e.name.includes("/rpc"))
          return {
            dcl: nav?.domContentLoadedEventEnd ?? 0,
            rpcStart: Math.min(...rpc.map((e) => e.startTime)),
            rpcEnd: Math.max(...rpc.map((e) => (e as PerformanceResourceTiming).responseEnd)),
            drawn: performance.now()
          }
        })
      )
      await page.goto("about:blank")
      const bareStarted = performance.now()
      await page.goto(bare.url)
      await page.locator("svg .mark").first().waitFor()
      bareTimes.push(performance.now() - bareStarted)
    }
    if (browser.errors.length > 0) console.log(`  browser errors: ${browser.errors.join("; ")}`)
    console.log(
      `  dashboard: ${times.map((t) => t.toFixed(0)).join(", ")} ms; static svg: ${bareTimes.map((t) => t.toFixed(0)).join(", ")} ms`
    )
    const ms = median(times)
    const phase = (f: (p: (typeof phases)[number]) => number) => median(phases.map(f)).toFixed(0)
    const breakdown = `DOMContentLoaded ${phase((p) => p.dcl)} ms, RPCs ${phase((p) => p.rpcStart)}–${phase((p) => p.rpcEnd)} ms, drawn ${phase((p) => p.drawn)} ms (page clock)`
    console.log(`  ${breakdown}`)
    return [
      lowerIsBetter({
        name: "web.chart",
        value: ms / 1000,
        unit: "s",
        reference: "navigation to a static page with one inline SVG",
        reference_value: median(bareTimes) / 1000,
        atMost: 1,
        note: `median of ${ROUNDS}, goto → first chart mark (svg) or canvas in orw-chart; ${rows} usage rows (2 keys × 364 days × 10 models), default 30-day range; ${breakdown}`
      })
    ]
  } finally {
    await bare.close()
    await browser.close()
    await app.close()
  }
}

export const benchmarks = [{ names: ["web.chart"], run }]
