import { describe, expect, it } from "@effect/vitest"
import { daysBefore, usageWindows } from "../../src/OpenRouter/Simulator/Usage.js"
import { headroom, makeRng, realisticScenario, type SimKey, trafficTick } from "../../src/OpenRouter/Simulator.js"

/* The demo's live traffic (Demo/Traffic.ts drives `trafficTick`): a realistic rate, and OpenRouter's limit rule. */

const MIDNIGHT = new Date("2026-11-20T00:00:00.000Z")
const MINUTE = 60_000

const dayTotal = (k: SimKey, date: string) => k.activity.filter((r) => r.date === date).reduce((n, r) => n + r.usage, 0)

/** One-minute ticks from `start` (a whole day by default). */
const runTicks = (scenario: ReturnType<typeof realisticScenario>, start: Date, seed = 1, minutes = 24 * 60) => {
  const rng = makeRng(seed)
  for (let t = 0; t < minutes; t++) trafficTick(scenario, rng, new Date(start.getTime() + t * MINUTE), 60 / 86_400)
}

describe("demo traffic", () => {
  it("spends about one average day per day: today's bar in scale with the 90 days before it", () => {
    const scenario = realisticScenario({ days: 120, seed: 42, now: MIDNIGHT })
    const production = scenario.keys.find((k) => k.name === "Production") as SimKey
    const today = daysBefore(MIDNIGHT, 0)
    const before = dayTotal(production, today)
    runTicks(scenario, MIDNIGHT)
    let average = 0
    for (let d = 1; d <= 90; d++) average += dayTotal(production, daysBefore(MIDNIGHT, d)) / 90
    const ratio = (dayTotal(production, today) - before) / average
    expect(ratio).toBeGreaterThan(0.5)
    expect(ratio).toBeLessThan(2)
  })

  it("a key at its limit is refused (OpenRouter's 402) and stops growing; limit_remaining stays 0", () => {
    const now = new Date("2026-11-20T12:00:00.000Z")
    const scenario = realisticScenario({ days: 30, seed: 42, now })
    const staging = scenario.keys.find((k) => k.name === "Staging") as SimKey
    // Its monthly limit is what it spent this month plus a cent: traffic takes that cent, then nothing.
    staging.limit = (usageWindows(staging, now, "usage").monthly + 10_000_000) / 1e9
    // Eleven hours of traffic, all within the same UTC day as `now`.
    runTicks(scenario, now, 3, 11 * 60)
    const spent = usageWindows(staging, now, "usage").total
    expect(headroom(staging, now)).toBe(0)
    runTicks(scenario, now, 4, 11 * 60)
    expect(usageWindows(staging, now, "usage").total).toBe(spent)
    expect(headroom(staging, now)).toBe(0)
  })
})
