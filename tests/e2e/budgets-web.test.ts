import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import type { AddressInfo } from "node:net"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Browser, launch } from "./support/browser.js"
import { ensureWebBuild } from "./support/build.js"
import { daysAgo, scenario } from "./support/scenario.js"
import { type RunningApp, startApp } from "./support/server.js"

const EMAIL = "grace@example.com"
const PASSWORD = "Compiler-Pioneer-1952"
/** The daily budget set on the key, and what is spent upstream after it is set (crosses every threshold). */
const BUDGET_USD = 0.4
const SPENT_USD = 0.5

const HAVE_CHROMIUM = NodeFs.existsSync("/usr/bin/chromium")

/** What the loopback receiver got: one entry per POST, with its raw body. */
interface Received {
  readonly method: string
  readonly path: string
  readonly headers: NodeHttp.IncomingHttpHeaders
  readonly body: string
}

let app: RunningApp
let browser: Browser
let keys: ReturnType<typeof scenario>
let receiver: NodeHttp.Server
let receiverUrl = ""
const received: Array<Received> = []

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return
  ensureWebBuild()
  keys = scenario()
  app = await startApp(keys.simulator)
  browser = await launch()
  receiver = NodeHttp.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      received.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8")
      })
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await new Promise((resolve) => (receiver === undefined ? resolve(undefined) : receiver.close(resolve)))
})

/** Waits (polling, at most `ms`) until `condition` holds. */
const until = async (condition: () => boolean, what: string, ms = 15_000) => {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  if (!condition()) throw new Error(`timed out waiting for ${what}`)
}

/** The body rows of the table named `name`, as cell texts. */
const rows = (page: Page, name: string) =>
  page
    .getByRole("table", { name })
    .locator("tbody tr")
    .evaluateAll((trs) =>
      trs.map((tr) => [...tr.children].map((td) => (td.textContent ?? "").replace(/\s+/g, " ").trim()))
    )

/** Whether the page is wider than its viewport (horizontal scrolling of the whole page). */
const overflows = (page: Page) =>
  page.evaluate(() => {
    if (document.documentElement.scrollWidth <= document.documentElement.clientWidth) return false
    const wide: Array<string> = []
    const walk = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll("*")) {
        const r = el.getBoundingClientRect()
        if (r.width > document.documentElement.clientWidth + 1)
          wide.push(`${el.tagName}.${el.className}:${Math.round(r.width)}`)
        if (el.shadowRoot !== null) walk(el.shadowRoot)
      }
    }
    walk(document)
    return wide.slice(0, 12).join(" ")
  })

/** Verifies `X-Orw-Signature: t=…,v1=…` over `<t>.<raw body>` with the webhook's secret. */
const signedWith = (secret: string, delivery: Received) => {
  const header = String(delivery.headers["x-orw-signature"] ?? "")
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  if (match === null) return false
  const expected = NodeCrypto.createHmac("sha256", secret).update(`${match[1]}.${delivery.body}`).digest("hex")
  return NodeCrypto.timingSafeEqual(Buffer.from(expected), Buffer.from(match[2] ?? ""))
}

describe.skipIf(!HAVE_CHROMIUM)("budgets, alerts and webhooks in the web UI", () => {
  it("sets a budget that a sync crosses, lists its alerts, and delivers a signed test to a webhook", async () => {
    const { page } = browser
    const json = { "content-type": "application/json" }
    const registered = await fetch(`${app.origin}/api/auth/register`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email: EMAIL, password: PASSWORD, password_confirm: PASSWORD })
    })
    expect(registered.status).toBe(201)
    await page.goto(`${app.origin}/login`)
    await page.getByLabel("Email").fill(EMAIL)
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD)
    await page.getByRole("button", { name: "Sign in" }).click()
    await page.waitForURL("**/dashboard")

    // The header reaches the new pages.
    await page.getByRole("link", { name: "Keys" }).click()
    await page.waitForURL("**/keys")
    await page.getByLabel("Name", { exact: true }).fill("Production")
    await page.getByLabel("OpenRouter key").fill(keys.production)
    await page.getByRole("button", { name: "Add key" }).click()
    await page.getByText("Added Production").waitFor()
    await page.getByRole("button", { name: "Sync now: Production" }).click()
    await page.getByText(/Synced Production:/).waitFor()

    // A daily budget on the key: a bad amount is refused (and not shown as set), then a good one is set.
    const form = page.getByRole("form", { name: "New budget for Production" })
    await form.getByLabel("Period").selectOption("daily")
    await form.getByLabel("Amount (USD)").fill(String(BUDGET_USD))
    await form.getByLabel("Thresholds (%)").fill("50, 80, 2000")
    await form.getByRole("button", { name: "Set budget" }).click()
    const editor = page.getByRole("region", { name: "Budgets of Production" })
    await editor.getByRole("alert").filter({ hasText: "Invalid budget" }).waitFor()
    expect(await editor.getByRole("status").textContent()).toBe("")
    await form.getByLabel("Thresholds (%)").fill("")
    await form.getByRole("button", { name: "Set budget" }).click()
    await editor.getByText(`Set a daily budget of $0.40 for Production.`).waitFor()
    expect(await editor.getByRole("alert").count()).toBe(0)
    const budget = page.getByRole("article", { name: "Daily budget of Production" })
    await budget.getByText("Alerts at 50 %, 80 %, 100 %").waitFor()
    // Resets at the next UTC midnight, shown in the user's zone and in UTC.
    await budget.getByText(`(${daysAgo(-1)} 00:00 UTC)`).waitFor()
    expect(await budget.getByRole("progressbar").getAttribute("aria-valuetext")).toMatch(/of \$0\.40 spent/)

    // No alert yet: nothing crossed the budget.
    await page.getByRole("link", { name: "Alerts" }).click()
    await page.waitForURL("**/alerts")
    await page.getByText("No alerts yet.").waitFor()

    // A webhook on a loopback receiver: its secret is shown once; a test is delivered, signed.
    await page.getByRole("link", { name: "Webhooks" }).click()
    await page.waitForURL("**/webhooks")
    await page.getByLabel("URL").fill(receiverUrl)
    await page.getByLabel("Format").selectOption("generic")
    await page.getByRole("button", { name: "Add webhook" }).click()
    const secret = (await page.locator("#new-secret").textContent()) ?? ""
    expect(secret).toMatch(/^whsec_/)
    expect(page.url()).not.toContain(secret)
    await page.getByRole("button", { name: `Send test to ${receiverUrl}` }).click()
    await page.getByText(`Test queued for ${receiverUrl}`).waitFor()
    expect(await page.locator("#new-secret").count()).toBe(0)
    const deliveries = page.getByRole("table", { name: `Deliveries to ${receiverUrl}` })
    await deliveries.locator("tbody tr", { hasText: "delivered" }).waitFor()
    const [delivery] = await rows(page, `Deliveries to ${receiverUrl}`)
    expect(delivery?.slice(1, 6)).toEqual(["test", "delivered", "1", "204", "–"])
    const test = received.find((r) => r.headers["x-orw-event"] === "test")
    expect(test?.method).toBe("POST")
    expect(test?.path).toBe("/hook")
    expect(test === undefined ? false : signedWith(secret, test)).toBe(true)
    expect(JSON.parse(test?.body ?? "{}")).toMatchObject({ type: "test", id: test?.headers["x-orw-delivery"] })
    await page.reload()
    await deliveries.locator("tbody tr", { hasText: "delivered" }).waitFor()
    expect(await page.content()).not.toContain(secret)

    // Spend upstream, then a sync: the budget is over, and its three thresholds fired once each.
    keys.simulator.addUsage(keys.production, SPENT_USD, { model: "openai/gpt-4.1", requests: 2 })
    await page.getByRole("link", { name: "Keys" }).click()
    await page.getByRole("button", { name: "Sync now: Production" }).click()
    await page.getByText(/Synced Production: \d+ new facts recorded/).waitFor()
    await page.getByRole("article", { name: "Daily budget of Production" }).getByText("over budget").waitFor()

    await page.getByRole("link", { name: "Alerts" }).click()
    await page.waitForURL("**/alerts")
    await page.getByRole("table", { name: "Alerts, newest first" }).waitFor()
    const alerts = await rows(page, "Alerts, newest first")
    // One sync crossed all three at once: same time, any order among them.
    const byThreshold = (a: Array<string>, b: Array<string>) =>
      Number.parseInt(b[2] ?? "", 10) - Number.parseInt(a[2] ?? "", 10)
    expect(alerts.map((cells) => cells.slice(1)).sort(byThreshold)).toEqual(
      [100, 80, 50].map((threshold) => [
        "Threshold",
        "Production",
        `${threshold} %`,
        expect.stringMatching(/^\$0\.\d+ of \$0\.40$/),
        `daily from ${daysAgo(0)}`
      ])
    )
    expect(alerts.map((cells) => cells[0])).toEqual([...alerts.map((cells) => cells[0] ?? "")].sort().reverse())
    await page.getByText("Page 1 of 1 · 3 alerts").waitFor()
    // Each alert also reaches the webhook, signed like the test.
    await until(() => received.filter((r) => r.headers["x-orw-event"] === "alert.threshold").length === 3, "3 alerts")
    expect(
      received.filter((r) => r.headers["x-orw-event"] === "alert.threshold").every((r) => signedWith(secret, r))
    ).toBe(true)

    // The dashboard lists the budget that is over its amount.
    await page.getByRole("link", { name: "Dashboard" }).click()
    const watch = page.getByRole("region", { name: "Budgets near or over their amount" })
    await watch.getByText("Production, daily").waitFor()
    await watch.getByText("$0.50 of $0.40 spent (125 %) · over budget").waitFor()

    // The webhook is deleted only once confirmed.
    await page.getByRole("link", { name: "Webhooks" }).click()
    await page.getByRole("button", { name: `Delete the webhook ${receiverUrl}` }).click()
    await page.getByRole("button", { name: "Yes, delete" }).click()
    await page.getByText(`Deleted the webhook ${receiverUrl}`).waitFor()
    await page.getByText("No webhooks yet.").waitFor()

    expect(browser.errors).toEqual([])
    expect(browser.violations).toEqual([])
  })

  it("keys, alerts, webhooks and dashboard are no wider than the viewport at 375 px and 1280 px", async () => {
    const { page } = browser
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 })
      for (const [path, heading] of [
        ["/keys", "Budgets"],
        ["/alerts", "Alerts"],
        ["/webhooks", "Webhooks"],
        ["/dashboard", "Budgets near or over their amount"]
      ] as const) {
        await page.goto(`${app.origin}${path}`)
        await page.getByRole("heading", { name: heading, exact: true }).waitFor()
        expect({ path, width, overflows: await overflows(page) }).toEqual({ path, width, overflows: false })
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 })
    expect(browser.errors).toEqual([])
  })
})
