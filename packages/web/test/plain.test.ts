import * as NodeFs from "node:fs"
import * as Dates from "@orw/domain/Dates"
import * as Plain from "@orw/domain/Plain"
import * as Events from "@orw/domain/Usage/Events"
import { describe, expect, it } from "vitest"

describe("@orw/domain/Plain: what the web runs of the domain, without Effect", () => {
  it("imports nothing (a value imported from a module with Schemas would bring Effect into the bundle)", () => {
    const source = NodeFs.readFileSync(new URL("../../domain/src/Plain.ts", import.meta.url), "utf8")
    expect(source).not.toMatch(/^\s*(import|export\s+\*|export\s+\{[^}]*\}\s+from)\b/m)
  })

  it("is the one definition: Dates and Usage/Events re-export these very bindings", () => {
    expect(Dates.isCalendarDay).toBe(Plain.isCalendarDay)
    expect(Dates.isAnsweredRange).toBe(Plain.isAnsweredRange)
    expect(Dates.MAX_RANGE_DAYS).toBe(Plain.MAX_RANGE_DAYS)
    expect(Events.UNATTRIBUTED).toBe(Plain.UNATTRIBUTED)
  })
})
