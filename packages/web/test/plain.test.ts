import * as Dates from "@orw/domain/Dates"
import * as Plain from "@orw/domain/Plain"
import * as Events from "@orw/domain/Usage/Events"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"

/** Days around the edges the checks care about: month ends, leap days, impossible days, other shapes. */
const dayLike = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1890, max: 2410 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
    .map(([y, m, d]) => `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`),
  fc.string({ maxLength: 12 })
)
const realDay = fc
  .date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-12-31T00:00:00Z"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10))

describe("@orw/domain/Plain: the web's Effect-free copies answer as their originals", () => {
  it("holds the same constants", () => {
    expect(Plain.UNATTRIBUTED).toBe(Events.UNATTRIBUTED)
    expect(Plain.MAX_RANGE_DAYS).toBe(Dates.MAX_RANGE_DAYS)
  })

  it("isCalendarDay as Dates.isCalendarDay", () => {
    for (const s of ["2024-02-29", "2023-02-29", "2100-02-29", "2000-02-29", "2026-04-31", "2026-12-31", "2026-1-01"])
      expect(Plain.isCalendarDay(s)).toBe(Dates.isCalendarDay(s))
    fc.assert(
      fc.property(dayLike, (s) => Plain.isCalendarDay(s) === Dates.isCalendarDay(s)),
      { numRuns: 2000 }
    )
  })

  it("isAnsweredRange as Dates.isAnsweredRange", () => {
    expect(Plain.isAnsweredRange("2024-01-01", "2024-12-31")).toBe(Dates.isAnsweredRange("2024-01-01", "2024-12-31"))
    expect(Plain.isAnsweredRange("2024-01-01", "2025-01-01")).toBe(Dates.isAnsweredRange("2024-01-01", "2025-01-01"))
    fc.assert(
      fc.property(realDay, realDay, (a, b) => Plain.isAnsweredRange(a, b) === Dates.isAnsweredRange(a, b)),
      { numRuns: 2000 }
    )
  })
})
