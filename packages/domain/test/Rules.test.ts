import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as fc from "fast-check"
import {
  addDays,
  daysBetween,
  effectiveLines,
  isCalendarDay,
  sumUsage,
  sumUsageBy,
  type UsageLine,
  UtcDate
} from "../src/index.js"
import { UNATTRIBUTED } from "../src/Usage/Events.js"

const line = (keyId: string, date: string, model: string, cost: number, requests = 0): UsageLine => ({
  keyId,
  date,
  model,
  requests,
  tokensInput: 0,
  tokensOutput: 0,
  cost
})

describe("effectiveLines: the supersede rule", () => {
  it("a day with per-model rows drops its unattributed row; a day without keeps it", () => {
    const lines = [
      line("k1", "2026-03-01", UNATTRIBUTED, 900),
      line("k1", "2026-03-01", "openai/gpt-4.1", 600, 4),
      line("k1", "2026-03-02", UNATTRIBUTED, 300)
    ]
    expect(effectiveLines(lines)).toEqual([lines[1], lines[2]])
  })

  it("is decided per key: another key's per-model row does not supersede this key's growth", () => {
    const lines = [line("k1", "2026-03-01", UNATTRIBUTED, 900), line("k2", "2026-03-01", "openai/gpt-4.1", 600)]
    expect(effectiveLines(lines)).toEqual(lines)
  })

  it("matches its definition on random rows, and sums are exact integers", () => {
    const arbLine = fc.record({
      keyId: fc.constantFrom("k1", "k2"),
      date: fc.constantFrom("2026-03-01", "2026-03-02", "2026-03-03"),
      model: fc.constantFrom(UNATTRIBUTED, "a/m1", "b/m2"),
      requests: fc.nat(1000),
      tokensInput: fc.nat(1_000_000),
      tokensOutput: fc.nat(1_000_000),
      cost: fc.nat(10_000_000)
    })
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 30 }), (lines) => {
        const kept = effectiveLines(lines)
        for (const l of lines) {
          const split = lines.some((o) => o.keyId === l.keyId && o.date === l.date && o.model !== UNATTRIBUTED)
          expect(kept.includes(l)).toBe(l.model !== UNATTRIBUTED || !split)
        }
        const total = sumUsage(kept)
        expect(total.cost).toBe(kept.reduce((s, l) => s + l.cost, 0))
        const byKey = [...sumUsageBy(kept, (l) => l.keyId).values()]
        expect(sumUsage(byKey.map((g) => g.sum))).toEqual(total)
      }),
      { numRuns: 200 }
    )
  })
})

describe("UtcDate: a day that exists", () => {
  const valid = ["2024-02-29", "2026-02-28", "2026-12-31", "2000-02-29", "2026-04-30"]
  const invalid = ["2026-02-29", "1900-02-29", "2026-02-31", "2026-04-31", "2024-13-01", "2024-00-10", "2024-01-32"]
  const more = ["2024-01-00", "2024-1-01", "yesterday", "2024-01-01T00:00:00Z", ""]
  it("accepts real days and refuses impossible or malformed ones", () => {
    for (const day of valid) expect([day, isCalendarDay(day)]).toEqual([day, true])
    for (const day of [...invalid, ...more]) expect([day, isCalendarDay(day)]).toEqual([day, false])
    expect(Schema.decodeUnknownEither(UtcDate)("2026-02-31")._tag).toBe("Left")
  })

  it("day arithmetic crosses months, leap days and years", () => {
    expect(addDays(UtcDate.make("2024-02-28"), 1)).toBe("2024-02-29")
    expect(addDays(UtcDate.make("2024-03-01"), -1)).toBe("2024-02-29")
    expect(addDays(UtcDate.make("2026-12-31"), 1)).toBe("2027-01-01")
    expect(daysBetween(UtcDate.make("2026-01-01"), UtcDate.make("2026-12-31"))).toBe(364)
    expect(daysBetween(UtcDate.make("2026-03-02"), UtcDate.make("2026-03-01"))).toBe(-1)
  })
})
