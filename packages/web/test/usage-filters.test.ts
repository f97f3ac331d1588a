import { describe, expect, it } from "vitest"
import { DEFAULT_DASHBOARD, dashboardSearch, parseDashboard } from "../src/dashboard-filters.js"
import {
  csvHref,
  DEFAULT_FILTERS,
  explorerQuery,
  filtersToSearch,
  parseFilters,
  resolveRange,
  toggleSort,
  type UsageFilters
} from "../src/usage-filters.js"

const TODAY = "2026-03-15"

describe("the explorer's filters in the URL", () => {
  it("a custom range the server would refuse (over a year, or backwards) is not taken from a link", () => {
    // 2025-12-02 .. 2026-12-02 is 366 days, both included: the longest the server answers for.
    expect(parseFilters("?from=2025-12-02&to=2026-12-02").range).toBe("custom")
    expect(parseFilters("?from=2025-12-01&to=2026-12-02").range).toBe(DEFAULT_FILTERS.range)
    expect(parseFilters("?from=2026-12-02&to=2026-12-01").range).toBe(DEFAULT_FILTERS.range)
  })

  it("the defaults make a bare /usage, and a bare /usage reads as the defaults", () => {
    expect(filtersToSearch(DEFAULT_FILTERS)).toBe("")
    expect(parseFilters("")).toEqual(DEFAULT_FILTERS)
  })

  it("round-trips every filter: several keys and models, custom dates, grouping, sort, page", () => {
    const filters: UsageFilters = {
      range: "custom",
      start: "2026-01-01",
      end: "2026-02-28",
      keys: ["key-1", "key-2"],
      models: ["openai/gpt-4.1", 'acme/a, "b" & c=d'],
      granularity: "week",
      split: "key",
      sort: "cost",
      order: "desc",
      page: 3
    }
    const search = filtersToSearch(filters)
    expect(search).toBe(
      "?from=2026-01-01&to=2026-02-28&key=key-1&key=key-2&model=openai%2Fgpt-4.1&model=acme%2Fa%2C+%22b%22+%26+c%3Dd" +
        "&group=week&by=key&sort=cost&order=desc&page=3"
    )
    expect(parseFilters(search)).toEqual(filters)
    for (const range of ["7d", "90d", "365d", "month"] as const) {
      const preset = { ...DEFAULT_FILTERS, range }
      expect(parseFilters(filtersToSearch(preset))).toEqual(preset)
    }
  })

  it("falls back to defaults for what it cannot read (a stale or edited link still opens)", () => {
    expect(parseFilters("?range=12d&group=year&by=provider&sort=x&order=up&page=-2&key=&model=")).toEqual(
      DEFAULT_FILTERS
    )
    // A custom range needs two real days in order; otherwise the preset (or the default) holds.
    expect(parseFilters("?from=2026-02-30&to=2026-03-01&range=7d").range).toBe("7d")
    expect(parseFilters("?from=2026-03-02&to=2026-03-01").range).toBe("30d")
    expect(parseFilters("?key=a&key=a&key=b").keys).toEqual(["a", "b"])
  })

  it("resolves presets against today (UTC) and keeps custom dates", () => {
    const range = (r: UsageFilters["range"]) => resolveRange({ ...DEFAULT_FILTERS, range: r }, TODAY)
    expect(range("7d")).toEqual({ start: "2026-03-09", end: TODAY })
    expect(range("30d")).toEqual({ start: "2026-02-14", end: TODAY })
    expect(range("365d")).toEqual({ start: "2025-03-16", end: TODAY })
    expect(range("month")).toEqual({ start: "2026-03-01", end: TODAY })
    expect(
      resolveRange({ ...DEFAULT_FILTERS, range: "custom", start: "2025-12-01", end: "2025-12-31" }, TODAY)
    ).toEqual({ start: "2025-12-01", end: "2025-12-31" })
  })

  it("sorting: the same column flips, a new one starts asc for text and desc for figures, back to page 1", () => {
    const on = { ...DEFAULT_FILTERS, page: 4 }
    expect(toggleSort(on, "date")).toMatchObject({ sort: "date", order: "desc", page: 1 })
    expect(toggleSort(on, "cost")).toMatchObject({ sort: "cost", order: "desc", page: 1 })
    expect(toggleSort(on, "label")).toMatchObject({ sort: "label", order: "asc" })
    expect(toggleSort(toggleSort(on, "cost"), "cost")).toMatchObject({ sort: "cost", order: "asc" })
  })
})

describe("the requests built from the filters", () => {
  const filters: UsageFilters = {
    ...DEFAULT_FILTERS,
    range: "7d",
    keys: ["k1", "k2"],
    models: ["m,1"],
    granularity: "month",
    split: "key",
    sort: "requests",
    order: "desc",
    page: 2
  }

  it("the RPC query: the resolved range, the keys and models, the grouping (sorting and paging are the page's)", () => {
    expect(explorerQuery(filters, TODAY)).toEqual({
      start_date: "2026-03-09",
      end_date: TODAY,
      key_ids: ["k1", "k2"],
      models: ["m,1"],
      granularity: "month",
      split: "key"
    })
  })

  it("the CSV export: /api/usage with the same range, filters, grouping and sort; no page", () => {
    const href = csvHref(filters, TODAY)
    const url = new URL(href, "http://x")
    expect(url.pathname).toBe("/api/usage")
    expect(url.searchParams.get("format")).toBe("csv")
    expect([url.searchParams.get("start_date"), url.searchParams.get("end_date")]).toEqual(["2026-03-09", TODAY])
    expect(url.searchParams.getAll("key_id")).toEqual(["k1", "k2"])
    expect(url.searchParams.getAll("model")).toEqual(["m,1"])
    expect([url.searchParams.get("group"), url.searchParams.get("by")]).toEqual(["month", "key"])
    expect([url.searchParams.get("sort"), url.searchParams.get("order")]).toEqual(["requests", "desc"])
    expect(url.searchParams.has("page")).toBe(false)
    expect(url.searchParams.has("limit")).toBe(false)
  })
})

describe("the dashboard's filters in the URL", () => {
  it("round-trips days, key and the chart's split; defaults are a bare /dashboard", () => {
    expect(dashboardSearch(DEFAULT_DASHBOARD)).toBe("")
    expect(parseDashboard("")).toEqual(DEFAULT_DASHBOARD)
    const filters = { days: 7, keyId: "key-9", split: "key" } as const
    expect(dashboardSearch(filters)).toBe("?days=7&key=key-9&by=key")
    expect(parseDashboard(dashboardSearch(filters))).toEqual(filters)
    expect(parseDashboard("?days=45&by=x")).toEqual(DEFAULT_DASHBOARD)
  })
})
