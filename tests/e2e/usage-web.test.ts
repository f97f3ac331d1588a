import * as NodeFs from "node:fs"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { count, usd } from "../../packages/web/src/format.js"
import { type Browser, launch } from "./support/browser.js"
import { ensureWebBuild } from "./support/build.js"
import { daysAgo, scenario } from "./support/scenario.js"
import { type RunningApp, startApp } from "./support/server.js"

/*
 * The usage explorer and the charts (issue 11), in Chromium against the real server and the simulator: the
 * explorer's figures are /api/v1/usage's for the same filters, its CSV export holds the rows shown, reload
 * keeps the filters, the charts are drawn on a canvas with their figures in a table, and no page of these
 * is wider than a 375 px screen.
 */

const HAVE_CHROMIUM = NodeFs.existsSync("/usr/bin/chromium")
const EMAIL = "grace@example.com"
const PASSWORD = "Compiler-A0-1952!"

let app: RunningApp
let browser: Browser
let token = ""
let keyIds: { management: string; production: string } = { management: "", production: "" }

interface V1Item {
  date: string
  model: string
  requests: number
  tokens_input: number
  tokens_output: number
  cost: number
}

const api = async (method: string, path: string, bearer?: string, json?: unknown) => {
  const response = await fetch(`${app.origin}${path}`, {
    method,
    headers: {
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      ...(json === undefined ? {} : { "content-type": "application/json" })
    },
    body: json === undefined ? null : JSON.stringify(json)
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return { response, body: text === "" ? null : JSON.parse(text) }
}

/** Every row of /api/v1/usage for `query`, as the explorer's table writes them. */
const v1Rows = async (query: string) => {
  const { body } = await api("GET", `/api/v1/usage?limit=1000&${query}`, token)
  return (body.items as Array<V1Item>).map((i) => [
    i.date,
    i.model,
    count(i.requests),
    count(i.tokens_input),
    count(i.tokens_output),
    usd(i.cost)
  ])
}

/** The cell texts of the explorer's table body. */
const tableRows = (page: Page) =>
  page.locator("orw-usage-table tbody tr").evaluateAll((trs) =>
    trs.map((tr) =>
      // The cell's own text: without the "(estimate)" hint beside a label.
      [...tr.children].map((cell) =>
        [...cell.childNodes]
          .filter((node) => node.nodeType === Node.TEXT_NODE)
          .map((node) => node.textContent)
          .join("")
          .replace(/\s+/g, " ")
          .trim()
      )
    )
  )

/** A minimal RFC 4180 reader (quoted fields, doubled quotes, CRLF lines). */
const parseCsv = (text: string) =>
  text
    .split("\r\n")
    .filter((line) => line !== "")
    .map((line) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(?:,|$)/g)].slice(0, -1).map((m) => m[1] ?? ""))
    .map((cells) => cells.map((c) => (c.startsWith('"') ? c.slice(1, -1).replaceAll('""', '"') : c)))

const settle = async (page: Page) => {
  await page.locator("orw-usage-table tbody tr").first().waitFor()
  await page.waitForFunction(() => !document.querySelector("orw-app")?.shadowRoot?.textContent?.includes("Loading…"))
}

/** The widest the page gets: the document's scroll width, or a table's right edge (even one inside a scroller). */
const pageWidth = (page: Page) =>
  page.evaluate(() => {
    const all = (root: Document | ShadowRoot): Array<Element> =>
      [...root.querySelectorAll("*")].flatMap((el) => [el, ...(el.shadowRoot ? all(el.shadowRoot) : [])])
    const tables = all(document).filter((el) => el.tagName === "TABLE")
    return Math.max(document.documentElement.scrollWidth, ...tables.map((t) => t.getBoundingClientRect().right))
  })

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return
  ensureWebBuild()
  const keys = scenario()
  app = await startApp(keys.simulator)
  await api("POST", "/api/auth/register", undefined, { email: EMAIL, password: PASSWORD, password_confirm: PASSWORD })
  const { body: login } = await api("POST", "/api/auth/login", undefined, { email: EMAIL, password: PASSWORD })
  const jwt = login.access_token as string
  for (const [name, key] of [
    ["management", keys.management],
    ["production", keys.production]
  ] as const) {
    const { body } = await api("POST", "/api/keys", jwt, { name, key })
    keyIds = { ...keyIds, [name]: body.id }
    await api("POST", `/api/keys/${body.id}/sync`, jwt)
  }
  token = (await api("POST", "/api/tokens", jwt, { name: "e2e" })).body.token
  browser = await launch()
  await browser.context.addCookies([
    { name: "orw_session", value: jwt, url: app.origin, httpOnly: true, sameSite: "Strict" }
  ])
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await app?.close()
})

describe.skipIf(!HAVE_CHROMIUM)("the usage explorer and the charts, in Chromium", () => {
  it("shows /api/v1/usage's rows for the same range and key; reload keeps the filters", async () => {
    const { page } = browser
    await page.goto(`${app.origin}/dashboard`)
    await page.getByRole("link", { name: "Usage", exact: true }).click()
    await page.waitForURL("**/usage")
    await settle(page)
    const range = `start_date=${daysAgo(29)}&end_date=${daysAgo(0)}`
    const all = await v1Rows(range)
    expect(all.length).toBeGreaterThan(3)
    expect(await tableRows(page)).toEqual(all)

    // One key, picked from the list: the URL holds it, the rows are v1's for that key.
    await page.getByText("Keys: all").waitFor()
    await page.getByRole("checkbox", { name: "production" }).check()
    await page.waitForURL(`**/usage?key=${keyIds.production}`)
    await settle(page)
    expect(await tableRows(page)).toEqual(await v1Rows(`${range}&key_id=${keyIds.production}`))

    // A week per row, sorted by cost: reload and the same link give the same table.
    await page.getByLabel("Rows per").selectOption("week")
    await page.getByRole("button", { name: "Cost" }).click()
    await page.waitForURL(/group=week.*sort=cost&order=desc/)
    await settle(page)
    const shown = await tableRows(page)
    const costs = shown.map((cells) => Number((cells[5] ?? "").replace(/[$,]/g, "")))
    expect(costs).toEqual([...costs].sort((a, b) => b - a))
    const url = page.url()
    await page.reload()
    await settle(page)
    expect(page.url()).toBe(url)
    expect(await page.getByLabel("Rows per").inputValue()).toBe("week")
    expect(await page.getByRole("checkbox", { name: "production", includeHidden: true }).isChecked()).toBe(true)
    expect(await tableRows(page)).toEqual(shown)
  })

  it("exports a CSV holding exactly the rows shown, in their order", async () => {
    const { page } = browser
    await page.goto(`${app.origin}/usage?range=90d&by=key&sort=requests&order=desc`)
    await settle(page)
    const shown = await tableRows(page)
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export CSV" }).click()
    ])
    expect(download.suggestedFilename()).toBe(`usage-${daysAgo(89)}-to-${daysAgo(0)}.csv`)
    const csv = parseCsv(NodeFs.readFileSync((await download.path()) ?? "", "utf8"))
    expect(csv[0]).toEqual(["date", "key", "requests", "tokens_input", "tokens_output", "cost"])
    expect(
      csv
        .slice(1)
        .map(([date, label, req, tin, tout, cost]) => [
          date,
          label,
          count(Number(req)),
          count(Number(tin)),
          count(Number(tout)),
          usd(Number(cost))
        ])
    ).toEqual(shown)
    expect(shown.length).toBeGreaterThan(1)
  })

  it("draws the charts on a canvas, with the figures in a table for screen readers", async () => {
    const { page } = browser
    await page.goto(`${app.origin}/dashboard?days=7`)
    const chart = page.locator("orw-chart").first()
    await chart.locator("canvas").first().waitFor()
    const table = page.getByRole("table", { name: "Cost per day and model" })
    const figures = await table.evaluate((t) =>
      [...t.querySelectorAll("tr")].map((tr) => [...tr.children].map((c) => c.textContent?.trim() ?? ""))
    )
    // The same figures as /api/v1/usage: per day and model over the 7 days.
    const items = (await api("GET", `/api/v1/usage?start_date=${daysAgo(6)}&end_date=${daysAgo(0)}`, token)).body
      .items as Array<V1Item>
    const [head, ...days] = figures
    expect(days.map((cells) => cells[0])).toEqual(Array.from({ length: 7 }, (_, i) => daysAgo(6 - i)))
    for (const item of items) {
      const column = (head ?? []).indexOf(item.model)
      const day = days.find((cells) => cells[0] === item.date)
      expect([item.model, item.date, day?.[column]]).toEqual([item.model, item.date, usd(item.cost)])
    }
    // Hover shows the exact figures of a day; the legend hides and shows a series.
    const box = await chart.locator(".u-over").boundingBox()
    if (box === null) throw new Error("no plot area")
    await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2)
    await chart.locator(".readout strong", { hasText: daysAgo(0) }).waitFor()
    const legend = chart.getByRole("button", { name: items[0]?.model ?? "" })
    await legend.click()
    expect(await legend.getAttribute("aria-pressed")).toBe("false")
    await legend.click()
    expect(await legend.getAttribute("aria-pressed")).toBe("true")
    // Stacked by key instead: the choice is in the URL.
    await page.getByRole("button", { name: "By key" }).click()
    await page.waitForURL("**/dashboard?days=7&by=key")
    await page.getByRole("table", { name: "Cost per day and key" }).waitFor({ state: "attached" })
    await page.reload()
    await page.getByRole("table", { name: "Cost per day and key" }).waitFor({ state: "attached" })
    expect(await page.getByRole("button", { name: "7 days" }).getAttribute("aria-pressed")).toBe("true")
  })

  it("fits a 375 px screen: no page of these is wider", async () => {
    const { page } = browser
    await page.setViewportSize({ width: 375, height: 800 })
    try {
      for (const path of ["/usage", "/usage?by=key&group=month&range=365d", "/dashboard", "/dashboard?by=key"]) {
        await page.goto(`${app.origin}${path}`)
        await page.locator("orw-chart canvas").first().waitFor()
        const width = await pageWidth(page)
        expect([path, width <= 375 ? "fits" : width]).toEqual([path, "fits"])
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 })
    }
    expect(browser.errors).toEqual([])
    expect(browser.violations).toEqual([])
  })
})
