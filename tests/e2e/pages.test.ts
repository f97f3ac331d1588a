import * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { VERSION } from "@orw/domain/Version"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { usd } from "../../packages/web/src/format.js"
import { launchBrowser, type ThemedPage, themedPage } from "./support/browser.js"
import { ensureWebBuild } from "./support/build.js"
import { scenario } from "./support/scenario.js"
import { freePort, type RunningApp, startApp } from "./support/server.js"

/*
 * Issue 11: every page of the web app, in both themes, at 375 and 1280 px: no axe-core violation, no page
 * wider than a 375 px screen, a screenshot of each (tests/e2e/screenshots/, git-ignored), and the app
 * surviving its server going away mid-session. Adding a page is one line in PAGES.
 */

const HAVE_CHROMIUM = NodeFs.existsSync("/usr/bin/chromium")
const SCREENSHOTS = NodePath.resolve(import.meta.dirname, "screenshots")
const AXE = NodeFs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")
const EMAIL = "grace@example.com"
const PASSWORD = "Compiler-A0-1952!"
const THEMES = ["light", "dark"] as const

/** A page: where it is, whether it needs a session, and what shows once its figures are in. */
interface PageSpec {
  readonly name: string
  readonly path: string
  readonly member: boolean
  readonly ready: (page: Page) => Promise<unknown>
  /** What the browser logs on it, when something is expected (the not-found page is served as a 404). */
  readonly logs?: ReadonlyArray<string>
}

const heading = (name: string | RegExp) => (page: Page) => page.getByRole("heading", { name, level: 1 }).waitFor()

const PAGES: ReadonlyArray<PageSpec> = [
  { name: "login", path: "/login", member: false, ready: heading("Sign in") },
  { name: "register", path: "/register", member: false, ready: heading("Create an account") },
  { name: "dashboard", path: "/dashboard", member: true, ready: (page) => page.locator("#total-cost").waitFor() },
  {
    name: "usage",
    path: "/usage?range=90d",
    member: true,
    ready: (page) => page.locator("orw-usage-table tbody tr").first().waitFor()
  },
  {
    name: "keys",
    path: "/keys",
    member: true,
    ready: (page) => page.getByText("Production", { exact: true }).first().waitFor()
  },
  {
    name: "tokens",
    path: "/tokens",
    member: true,
    ready: (page) => page.getByText("grafana", { exact: true }).first().waitFor()
  },
  { name: "alerts", path: "/alerts", member: true, ready: (page) => page.getByText(/Page 1 of/).waitFor() },
  {
    name: "webhooks",
    path: "/webhooks",
    member: true,
    ready: (page) => page.getByText("127.0.0.1:9").first().waitFor()
  },
  {
    name: "profile",
    path: "/profile",
    member: true,
    ready: (page) => page.getByText(`Signed in as ${EMAIL}`).waitFor()
  },
  {
    name: "not-found",
    path: "/nope/deeper",
    member: true,
    ready: heading("Page not found"),
    logs: ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
  }
]

let app: RunningApp
let browser: Browser
let simulatorUrl: string
let closeSimulator: () => Promise<void>
let keys: ReturnType<typeof scenario>
let port: number
const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-pages-"))
const widths = new Map<string, number>()

const start = () => startApp(keys.simulator, { port, dir, simulatorUrl })

const json = async (path: string, init: { method?: string; jwt?: string; body?: unknown } = {}) => {
  const response = await fetch(`${app.origin}${path}`, {
    method: init.method ?? "POST",
    headers: {
      "content-type": "application/json",
      ...(init.jwt === undefined ? {} : { authorization: `Bearer ${init.jwt}` })
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`)
  return text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>)
}

/** A user with two synced keys, a token, a budget that fired and a webhook: every page has something to show. */
const seed = async () => {
  await json("/api/auth/register", { body: { email: EMAIL, password: PASSWORD, password_confirm: PASSWORD } })
  const jwt = String((await json("/api/auth/login", { body: { email: EMAIL, password: PASSWORD } }))?.access_token)
  for (const [name, key] of [
    ["Management", keys.management],
    ["Production", keys.production]
  ] as const) {
    const added = await json("/api/keys", { jwt, body: { name, key } })
    await json(`/api/keys/${added?.id}/sync`, { jwt })
  }
  // The states a key can be in besides "fine": used up, refused by OpenRouter, not synced yet.
  const exhausted = keys.simulator.addKey({
    name: "Exhausted",
    limit: 1,
    limitReset: "daily",
    usage: { total: 1, daily: 1, weekly: 1, monthly: 1 }
  })
  // A long name and a large limit: the figures a phone's card must wrap rather than overflow.
  const big = keys.simulator.addKey({
    name: "Batch",
    limit: 5000,
    limitReset: "monthly",
    usage: { total: 1234.56, daily: 0, weekly: 0, monthly: 1234.56 }
  })
  for (const [name, key, sync] of [
    ["Exhausted", exhausted, true],
    ["Nightly-batch-summaries-for-the-whole-analytics-team", big, true],
    ["Refused", keys.simulator.addKey({ name: "Refused", disabled: true }), true],
    ["Fresh", keys.simulator.addKey({ name: "Fresh" }), false]
  ] as const) {
    const added = await json("/api/keys", { jwt, body: { name, key } })
    if (sync) await json(`/api/keys/${added?.id}/sync`, { jwt })
  }
  await json("/api/tokens", { jwt, body: { name: "grafana" } })
  await json("/api/budgets", { jwt, body: { scope: "account", amount: 0.05, period: "monthly" } })
  await json("/api/webhooks", { jwt, body: { url: "http://127.0.0.1:9/hook", format: "generic" } })
}

const signIn = async (page: Page) => {
  await page.goto(`${app.origin}/login`)
  await page.getByLabel("Email").fill(EMAIL)
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD)
  await page.getByRole("button", { name: "Sign in" }).click()
  await page.waitForURL("**/dashboard")
  await page.locator("#total-cost").waitFor()
}

/** axe-core's violations on the page as it is: rule, impact and where. */
const axeViolations = async (page: Page) => {
  await page.evaluate(AXE)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } }).axe
    const results = await axe.run(document, { resultTypes: ["violations"] })
    return results.violations.map((v) => ({
      rule: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary}`)
    }))
  })
}
interface AxeResults {
  violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown; failureSummary: string }> }>
}

/**
 * Tabs through the page from its top: every enabled, visible button, link, field and summary must be
 * reached, each with a visible focus indicator (an outline or a ring). Answers what fails.
 */
const keyboardWalk = async (page: Page) => {
  // A click on the bare top left corner: the next Tab starts from the top of the page (past an autofocus).
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.mouse.click(1, 1)
  const invisible: Array<string> = []
  let outs = 0
  for (let i = 0; i < 200; i++) {
    await page.keyboard.press("Tab")
    const step = await page.evaluate(() => {
      let el = document.activeElement
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement
      if (el === null || el === document.body) return "out"
      if (el.hasAttribute("data-orw-reached")) return "again"
      el.setAttribute("data-orw-reached", "")
      const style = getComputedStyle(el)
      const ring =
        (style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none"
      return ring ? "ok" : `${el.tagName.toLowerCase()} "${(el.textContent ?? "").trim().slice(0, 40)}"`
    })
    if (step === "again" || (step === "out" && ++outs > 1)) break
    if (step !== "ok" && step !== "out") invisible.push(step)
  }
  await page.mouse.click(1, 1)
  const unreached = await page.evaluate(() => {
    const all = (root: Document | ShadowRoot): Array<Element> =>
      [...root.querySelectorAll("*")].flatMap((el) => [el, ...(el.shadowRoot ? all(el.shadowRoot) : [])])
    const found = all(document)
    const missed = found
      .filter((el) => el.matches("a[href], button:not([disabled]), input:not([disabled]), select, textarea, summary"))
      .filter((el) => el.getClientRects().length > 0 && !el.hasAttribute("data-orw-reached"))
      .map(
        (el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? el.getAttribute("name") ?? "").trim().slice(0, 40)}"`
      )
    for (const el of found) el.removeAttribute("data-orw-reached")
    return missed
  })
  return { invisible, unreached }
}

const noLoading = (page: Page) => expect.poll(() => page.getByText("Loading…").count(), { timeout: 10_000 }).toBe(0)

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return
  ensureWebBuild()
  NodeFs.mkdirSync(SCREENSHOTS, { recursive: true })
  keys = scenario()
  const sim = await keys.simulator.start()
  simulatorUrl = sim.url
  closeSimulator = sim.close
  port = await freePort()
  app = await start()
  await seed()
  browser = await launchBrowser()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
  await closeSimulator?.()
  NodeFs.rmSync(dir, { recursive: true, force: true })
  if (widths.size > 0) console.info(`Page widths at 375 px: ${JSON.stringify(Object.fromEntries(widths))}`)
})

describe.skipIf(!HAVE_CHROMIUM)("every page, light and dark, 375 and 1280 px (issue 11)", () => {
  for (const theme of THEMES) {
    it(`${theme}: no axe violation, keyboard reaches every action (light), nothing wider than 375 px, screenshots`, async () => {
      const themed: ThemedPage = await themedPage(browser, theme)
      const { page } = themed
      const found: Record<string, unknown> = {}
      try {
        for (const spec of [...PAGES.filter((p) => !p.member), ...PAGES.filter((p) => p.member)]) {
          if (spec.member && !(await page.context().cookies()).some((c) => c.name === "orw_session")) {
            await signIn(page)
            // Signing in loads the dashboard: nothing of it is aborted, fails or is left unread (the browser's
            // network log shows such a request as cancelled) on the way (issue 11).
            await expect.poll(() => themed.unfinished(), { timeout: 3_000 }).toEqual([])
            expect(themed.failedRequests).toEqual([])
          }
          await page.setViewportSize({ width: 1280, height: 900 })
          await page.goto(`${app.origin}${spec.path}`)
          await spec.ready(page)
          await noLoading(page)
          // Every page's footer: the product's version, as /docs has it, and the way to the API docs.
          expect(await page.locator("orw-footer #version").textContent()).toBe(VERSION)
          await page.getByRole("link", { name: "REST API documentation (/docs)" }).waitFor()
          expect([spec.name, themed.errors.splice(0)]).toEqual([spec.name, spec.logs ?? []])
          if (theme === "light") {
            const keyboard = await keyboardWalk(page)
            if (keyboard.invisible.length + keyboard.unreached.length > 0) found[`${spec.name} keyboard`] = keyboard
          }
          const violations = await axeViolations(page)
          if (violations.length > 0) found[spec.name] = violations
          await page.screenshot({ path: NodePath.join(SCREENSHOTS, `${spec.name}-1280-${theme}.png`), fullPage: true })
          await page.setViewportSize({ width: 375, height: 800 })
          await page.waitForTimeout(50)
          const width = await page.evaluate(() => document.documentElement.scrollWidth)
          // Too wide: name the innermost elements past the screen's edge, so a failure says what to fix.
          const culprits =
            width <= 375
              ? ""
              : await page.evaluate(() => {
                  const all = (root: Document | ShadowRoot): Array<Element> =>
                    [...root.querySelectorAll("*")].flatMap((el) => [el, ...(el.shadowRoot ? all(el.shadowRoot) : [])])
                  const past = all(document).filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
                  return past
                    .filter((el) => !past.some((other) => other !== el && el.contains(other)))
                    .slice(0, 5)
                    .map(
                      (el) =>
                        `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}: ${Math.round(el.getBoundingClientRect().right)}`
                    )
                    .join(", ")
                })
          widths.set(`${spec.name} (${theme})${culprits === "" ? "" : ` [${culprits}]`}`, width)
          // A table may not hide its overflow in a scrolling box either: it fits, or becomes cards.
          const tables = await page.evaluate(() => {
            const all = (root: Document | ShadowRoot): Array<Element> =>
              [...root.querySelectorAll("*")].flatMap((el) => [el, ...(el.shadowRoot ? all(el.shadowRoot) : [])])
            return all(document)
              .filter((el) => el.tagName === "TABLE" && el.getBoundingClientRect().right > window.innerWidth)
              .map(
                (el) => `${el.querySelector("caption")?.textContent ?? "table"}: ${el.getBoundingClientRect().right}`
              )
          })
          if (tables.length > 0) widths.set(`${spec.name} (${theme}) tables ${tables.join(", ")}`, 376)
          await page.screenshot({ path: NodePath.join(SCREENSHOTS, `${spec.name}-375-${theme}.png`), fullPage: true })
        }
        if (process.env.ORW_DUMP)
          NodeFs.writeFileSync(`/tmp/axe-${theme}.json`, JSON.stringify({ found, widths: [...widths] }, null, 1))
        expect(found).toEqual({})
        expect(Object.fromEntries([...widths].filter(([, w]) => w > 375))).toEqual({})
        expect(themed.errors).toEqual([])
        expect(themed.violations).toEqual([])
      } finally {
        await themed.context.close()
      }
    }, 180_000)
  }

  it("keys: a limit with its reset, 'limit reached' as its own state, 'never synced' vs 'last attempt failed at'", async () => {
    const themed = await themedPage(browser, "light")
    try {
      const { page } = themed
      await signIn(page)
      await page.goto(`${app.origin}/keys`)
      const row = (name: string) => page.locator("tr", { hasText: name })
      await row("Exhausted").getByText("Limit reached", { exact: true }).waitFor()
      expect(
        await row("Exhausted")
          .getByText(/limit reached \(\$1\.00\)/)
          .count()
      ).toBe(1)
      await row("Exhausted").getByText("· resets daily").waitFor()
      await row("Production").getByText("· never resets").waitFor()
      await row("Production")
        .getByText(/^\$\d+\.\d\d of \$5\.00 left$/)
        .waitFor()
      await row("Refused")
        .getByText(/^last attempt failed at \d{4}-\d\d-\d\d \d\d:\d\d$/)
        .waitFor()
      await row("Refused").getByText("last success: never").waitFor()
      await row("Fresh").getByText("never synced", { exact: true }).waitFor()
      // A sync that finds the key refused is an error, never in the success box; the next action clears it.
      await page.getByRole("button", { name: "Sync now: Refused" }).click()
      const refusal = page.getByRole("alert").filter({ hasText: "Sync of Refused found the key invalid" })
      await refusal.waitFor()
      expect(await page.locator("p.notice", { hasText: "Refused" }).count()).toBe(0)
      await page.getByRole("button", { name: "Sync now: Production" }).click()
      await page.locator("p.notice", { hasText: /^\s*Synced Production: / }).waitFor()
      expect(await refusal.count()).toBe(0)
      // Money in cents, with the exact figure on hover.
      expect(await row("Exhausted").locator("td.limit span[title]").first().getAttribute("title")).toBe("$1.000000")
    } finally {
      await themed.context.close()
    }
  })

  it("the footer's version is /docs' (OpenAPI info.version), and its link opens /docs, not the app's not-found", async () => {
    const spec = (await (await fetch(`${app.origin}/openapi.json`)).json()) as { info: { version: string } }
    expect(spec.info.version).toBe(VERSION)
    const themed = await themedPage(browser, "light")
    try {
      await themed.page.goto(`${app.origin}/login`)
      await themed.page.getByRole("link", { name: "REST API documentation (/docs)" }).click()
      await themed.page.waitForURL("**/docs")
      await themed.page.locator("#swagger-ui").waitFor({ state: "attached" })
    } finally {
      await themed.context.close()
    }
  })

  it("registration: a 429 from the auth rate limit says when to try again (Retry-After)", async () => {
    const limited = await startApp(keys.simulator, { simulatorUrl, authRateLimitPerMinute: 1 })
    const themed = await themedPage(browser, "light")
    try {
      const attempt = () =>
        fetch(`${limited.origin}/api/auth/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "first@example.com", password: PASSWORD, password_confirm: PASSWORD })
        })
      expect((await attempt()).status).toBe(201)
      const { page } = themed
      await page.goto(`${limited.origin}/register`)
      await page.getByLabel("Email").fill("newcomer@example.com")
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD)
      await page.getByLabel("Confirm password").fill(PASSWORD)
      await page.getByRole("button", { name: "Create account" }).click()
      const alert = page.getByRole("alert").filter({ hasText: "Too many attempts" })
      await alert.waitFor()
      expect(await alert.textContent()).toMatch(/^Too many attempts: try again in \d+ s \(at \d\d:\d\d:\d\d UTC\)\.$/)
      expect(themed.errors).toEqual([
        "Failed to load resource: the server responded with a status of 429 (Too Many Requests)"
      ])
    } finally {
      await themed.context.close()
      await limited.close()
    }
  })

  it("the server stopped mid-session: the figures stay with an offline notice, and come back with it", async () => {
    const themed = await themedPage(browser, "light")
    const { page } = themed
    try {
      await page.clock.install()
      await signIn(page)
      const shown = await page.locator("#total-cost").textContent()
      expect(shown).toMatch(/^\$\d/)
      await app.close()
      // The dashboard's next refresh (every 30 s) finds no server.
      await page.clock.fastForward(30_000)
      const notice = page.getByText("Offline, retrying…")
      await notice.waitFor()
      await page.clock.fastForward(2_000)
      expect(await page.locator("#total-cost").textContent()).toBe(shown)
      expect(await page.getByText("Loading…").count()).toBe(0)
      expect(await page.getByRole("alert").count()).toBe(0)
      await page.screenshot({ path: NodePath.join(SCREENSHOTS, "dashboard-offline-1280-light.png") })

      // Spend recorded while the app was away shows once it is back.
      app = await start()
      keys.simulator.addUsage(keys.production, 0.5, { model: "openai/gpt-4.1", requests: 1 })
      const jwt = String((await json("/api/auth/login", { body: { email: EMAIL, password: PASSWORD } }))?.access_token)
      const listed = (await json("/api/keys", { method: "GET", jwt })) as { items: Array<{ id: string }> }
      for (const key of listed.items) await json(`/api/keys/${key.id}/sync`, { jwt })
      for (let i = 0; i < 20 && (await notice.count()) > 0; i++) await page.clock.fastForward(1_000)
      await notice.waitFor({ state: "detached" })
      // The retry may have answered before the sync above recorded the new spend: the next refresh shows it.
      for (let i = 0; i < 5 && (await page.locator("#total-cost").textContent()) === shown; i++) {
        await page.clock.fastForward(30_000)
        await page.waitForTimeout(300)
      }
      expect(await page.locator("#total-cost").textContent()).toMatch(/^\$\d/)
      expect(usd(Number((shown ?? "").replace(/[$,]/g, "")) + 0.5)).toBe(
        await page.locator("#total-cost").textContent()
      )
    } finally {
      await themed.context.close()
    }
  }, 120_000)
})
