import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import * as fc from "fast-check"
import {
  ApiKeyId,
  addDays,
  budgetFigures,
  daysFrom,
  evolveUsage,
  initialUsageState,
  type KeyUsage,
  periodOf,
  shiftDays,
  spentIn,
  spentOn,
  trailingWeek,
  UserId,
  UtcDate,
  usageLines,
  usageLinesBetween,
  utcDateOf
} from "../src/index.js"
import { UNATTRIBUTED, UsageRecorded } from "../src/Usage/Events.js"

/** Days around a month, a leap day and a year's end, so that windows cross them. */
const FIRST = Date.UTC(2027, 11, 1)
const SPAN_DAYS = 120
const dayAt = (offset: number) => UtcDate.make(new Date(FIRST + offset * 86_400_000).toISOString().slice(0, 10))

const arbRecord = fc.record({
  key: fc.constantFrom("k1", "k2", "k3"),
  day: fc.nat(SPAN_DAYS - 1),
  model: fc.constantFrom(UNATTRIBUTED, "a/m1", "b/m2", "c/m3"),
  cost: fc.nat(5_000_000),
  requests: fc.nat(50)
})

/** Each key's usage stream folded from the records, in order (a later record of a slot replaces it). */
const keysOf = (records: ReadonlyArray<typeof arbRecord extends fc.Arbitrary<infer R> ? R : never>) => {
  const byKey = new Map<string, KeyUsage>()
  for (const r of records) {
    const keyId = ApiKeyId.make(r.key)
    const before = byKey.get(r.key) ?? { keyId, usage: initialUsageState() }
    const event = new UsageRecorded({
      keyId,
      userId: UserId.make("u"),
      date: dayAt(r.day),
      model: r.model,
      totals: { requests: r.requests, tokensInput: 0, tokensOutput: 0, cost: r.cost, byokCost: 0 } as never,
      at: DateTime.unsafeMake(FIRST)
    })
    byKey.set(r.key, { keyId, usage: evolveUsage(before.usage, event) })
  }
  return [...byKey.values()]
}

const sorted = (lines: ReturnType<typeof usageLines>) =>
  [...lines].sort((a, b) => `${a.keyId}|${a.date}|${a.model}`.localeCompare(`${b.keyId}|${b.date}|${b.model}`))

describe("the usage date index: a few days read, the same figures as the whole history", () => {
  const arbAt = fc
    .integer({ min: -10, max: SPAN_DAYS + 10 })
    .chain((day) => fc.nat(86_399_999).map((ms) => DateTime.unsafeMake(FIRST + day * 86_400_000 + ms)))

  it("budget spend, today's spend and the trailing week equal the full scan's", () => {
    fc.assert(
      fc.property(fc.array(arbRecord, { maxLength: 80 }), arbAt, (records, at) => {
        const keys = keysOf(records)
        const all = usageLines(keys)
        for (const period of ["daily", "weekly", "monthly"] as const) {
          const window = periodOf(period, at)
          const between = usageLinesBetween(keys, window.start, window.end)
          expect(sorted(between)).toEqual(sorted(all.filter((l) => l.date >= window.start && l.date < window.end)))
          expect(spentIn(between, window)).toBe(spentIn(all, window))
          expect(budgetFigures({ period }, keys, at).spent).toBe(spentIn(all, window))
        }
        const today = utcDateOf(at)
        for (const key of keys) {
          const lines = usageLinesBetween([key], addDays(today, -7), addDays(today, 1))
          const full = usageLines([key])
          expect(spentOn(lines, today)).toBe(spentOn(full, today))
          expect(trailingWeek(lines, today)).toBe(trailingWeek(full, today))
        }
      }),
      { numRuns: 300 }
    )
  })

  it("shifting a day by whole days is addDays", () => {
    fc.assert(
      fc.property(fc.integer({ min: -800, max: 800 }), fc.integer({ min: -400, max: 400 }), (offset, days) => {
        const day = dayAt(offset)
        expect(shiftDays(day, days)).toBe(addDays(day, days))
      }),
      { numRuns: 300 }
    )
  })

  it("the days of a range cross months, leap days and years", () => {
    expect(daysFrom(UtcDate.make("2028-02-27"), UtcDate.make("2028-03-02"))).toEqual([
      "2028-02-27",
      "2028-02-28",
      "2028-02-29",
      "2028-03-01"
    ])
    expect(daysFrom(UtcDate.make("2027-12-31"), UtcDate.make("2028-01-01"))).toEqual(["2027-12-31"])
    expect(daysFrom(UtcDate.make("2027-12-31"), UtcDate.make("2027-12-31"))).toEqual([])
  })
})
