import { groupLines, periodStart, sortRows } from "@orw/domain/Usage/Explorer"
import { describe, expect, it } from "vitest"
import { addUsd, daysFrom, OTHER, seriesBy, stackFromTop } from "../src/chart-data.js"
import { DEFAULT_FILTERS } from "../src/usage-filters.js"
import { pageCount, periodLabel, tableView } from "../src/usage-table.js"

const row = (date: string, label: string, cost: number, requests = 1) => ({
  date,
  label,
  group: label,
  requests,
  tokens_input: requests * 10,
  tokens_output: requests * 2,
  cost
})

describe("grouping (the domain's, run by the server and the page)", () => {
  it("periods: the day, the Monday of its week (UTC), the 1st of its month", () => {
    expect(periodStart("2026-03-15", "day")).toBe("2026-03-15")
    // 2026-03-15 is a Sunday: its week began on Monday the 9th; a Monday is its own week's start.
    expect(periodStart("2026-03-15", "week")).toBe("2026-03-09")
    expect(periodStart("2026-03-09", "week")).toBe("2026-03-09")
    expect(periodStart("2026-01-01", "week")).toBe("2025-12-29")
    expect(periodStart("2026-03-15", "month")).toBe("2026-03-01")
  })

  it("sums lines per period and model or key, keeps only the keys and models asked for, ordered", () => {
    const line = (keyId: string, date: string, model: string, cost: number) => ({
      keyId,
      date,
      model,
      requests: 1,
      tokensInput: 1,
      tokensOutput: 1,
      cost
    })
    const lines = [
      line("k1", "2026-03-10", "b", 1),
      line("k2", "2026-03-11", "a", 2),
      line("k1", "2026-03-16", "a", 4),
      line("k3", "2026-03-10", "a", 8)
    ]
    const weeks = groupLines(lines, { keyIds: ["k1", "k2"], models: [], granularity: "week", split: "model" })
    expect(weeks.map((g) => [g.period, g.group, g.lines.map((l) => l.cost)])).toEqual([
      ["2026-03-09", "a", [2]],
      ["2026-03-09", "b", [1]],
      ["2026-03-16", "a", [4]]
    ])
    const byKey = groupLines(lines, { keyIds: [], models: ["a"], granularity: "month", split: "key" })
    expect(byKey.map((g) => [g.group, g.lines.length])).toEqual([
      ["k1", 1],
      ["k2", 1],
      ["k3", 1]
    ])
  })
})

describe("the table: sorting, paging", () => {
  const rows = [row("2026-03-02", "b", 0.5, 3), row("2026-03-01", "a", 2, 1), row("2026-03-01", "b", 0.5, 9)]

  it("sorts by any column both ways, ties by date then label: a total order", () => {
    expect(sortRows(rows, "date", "asc").map((r) => `${r.date}/${r.label}`)).toEqual([
      "2026-03-01/a",
      "2026-03-01/b",
      "2026-03-02/b"
    ])
    expect(sortRows(rows, "cost", "desc").map((r) => `${r.date}/${r.label}`)).toEqual([
      "2026-03-01/a",
      "2026-03-01/b",
      "2026-03-02/b"
    ])
    expect(sortRows(rows, "cost", "asc").map((r) => `${r.date}/${r.label}`)).toEqual([
      "2026-03-01/b",
      "2026-03-02/b",
      "2026-03-01/a"
    ])
    expect(sortRows(rows, "requests", "desc").map((r) => r.requests)).toEqual([9, 3, 1])
    expect(sortRows(rows, "label", "desc").map((r) => r.label)).toEqual(["b", "b", "a"])
  })

  it("pages the sorted rows and clamps a page past the end", () => {
    const many = Array.from({ length: 7 }, (_, i) => row(`2026-03-0${i + 1}`, "m", i))
    const view = tableView(many, { ...DEFAULT_FILTERS, sort: "cost", order: "desc", page: 2 }, 3)
    expect([view.page, view.pages, view.shown.map((r) => r.cost)]).toEqual([2, 3, [3, 2, 1]])
    expect(tableView(many, { ...DEFAULT_FILTERS, page: 9 }, 3).page).toBe(3)
    expect(pageCount(0)).toBe(1)
    expect(periodLabel("2026-03-01", "month")).toBe("2026-03")
  })
})

describe("the chart's series", () => {
  it("one series per label over every day (zero when idle), the biggest first, the rest as Other, exact sums", () => {
    const x = daysFrom("2026-03-01", "2026-03-03")
    expect(x).toEqual(["2026-03-01", "2026-03-02", "2026-03-03"])
    const rows = [
      row("2026-03-01", "small", 0.1),
      row("2026-03-01", "big", 3),
      row("2026-03-03", "tiny", 0.2),
      row("2026-03-03", "small", 0.2)
    ]
    const data = seriesBy(rows, x, (r) => r.cost, { max: 2, add: addUsd })
    expect(data.series).toEqual([
      { label: "big", values: [3, 0, 0] },
      { label: OTHER, values: [0.1, 0, 0.4] }
    ])
    expect(addUsd(0.1, 0.2)).toBe(0.3)
  })

  it("stacks from the top: each series reaches the sum of itself and those after it; hidden ones drop out", () => {
    const values = [
      [1, 2],
      [10, 20],
      [100, 200]
    ]
    expect(stackFromTop(values, [true, true, true])).toEqual([
      [111, 222],
      [110, 220],
      [100, 200]
    ])
    expect(stackFromTop(values, [true, false, true])).toEqual([
      [101, 202],
      [null, null],
      [100, 200]
    ])
  })
})
