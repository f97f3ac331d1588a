import type { Scenario, SimKey, SimModel } from "./Scenario.js"
import { addKey, emptyScenario, generateKey, toNano } from "./Scenario.js"
import { addUsage, daysBefore, usageWindows } from "./Usage.js"

/** A deterministic pseudo-random source (mulberry32): the same seed gives the same scenario. */
export type Rng = () => number

/** A seeded {@link Rng} returning floats in [0, 1). */
export const makeRng = (seed: number): Rng => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const pick = <A>(rng: Rng, items: ReadonlyArray<A>): A => items[Math.floor(rng() * items.length)] as A

const randomKey = (rng: Rng): string => generateKey(Uint8Array.from({ length: 32 }, () => Math.floor(rng() * 256)))

/** Options of {@link realisticScenario}. */
export interface RealisticOptions {
  /** Days of history before today (today is partly filled too). Default 90. */
  readonly days?: number
  readonly seed?: number
  /** The scenario's "now"; default the wall clock. */
  readonly now?: Date
}

const KEYS: ReadonlyArray<{ name: string; limit: number | null; reset: string | null; scale: number }> = [
  { name: "Production", limit: null, reset: null, scale: 1 },
  { name: "Staging", limit: 50, reset: "monthly", scale: 0.25 },
  { name: "Batch jobs", limit: 20, reset: "weekly", scale: 0.4 },
  { name: "Personal laptop", limit: 5, reset: "daily", scale: 0.08 }
]

/**
 * A demo scenario: one management key and four inference keys with `days` of usage over several models and
 * providers, deterministic for a given seed and `now`. The key strings are in `scenario.keys`.
 */
export const realisticScenario = (options: RealisticOptions = {}): Scenario => {
  const rng = makeRng(options.seed ?? 42)
  const now = options.now ?? new Date()
  const days = options.days ?? 90
  const scenario = emptyScenario()
  const createdAt = new Date(`${daysBefore(now, days + 1)}T09:00:00.000Z`).toISOString()
  addKey(scenario, { key: randomKey(rng), name: "Management", isManagementKey: true, createdAt }, now)
  for (const spec of KEYS) {
    const simKey = addKey(
      scenario,
      { key: randomKey(rng), name: spec.name, limit: spec.limit, limitReset: spec.reset, createdAt },
      now
    )
    for (let d = days; d >= 0; d--) {
      // Weekdays are busier; today is only partly over.
      const date = daysBefore(now, d)
      const weekday = new Date(`${date}T00:00:00Z`).getUTCDay() % 6 !== 0
      const dayShare = d === 0 ? (now.getUTCHours() + 1) / 24 : 1
      const calls = Math.round((weekday ? 6 : 2) * spec.scale * dayShare * (0.5 + rng()) * 4)
      for (let i = 0; i < calls; i++) spendOnce(scenario, simKey, rng, now, date)
    }
  }
  const spent = scenario.keys.reduce((n, k) => n + usageWindows(k, now, "usage").total, 0)
  scenario.credits = { totalCredits: toNano(Math.ceil((spent / 1e9) * 1.5 + 25)) }
  return scenario
}

const spendOnce = (scenario: Scenario, simKey: SimKey, rng: Rng, now: Date, date: string): void => {
  const model: SimModel = pick(rng, scenario.models)
  const requests = 1 + Math.floor(rng() * 40)
  const promptTokens = requests * (200 + Math.floor(rng() * 3000))
  const reasoningTokens = model.id.includes("claude") || rng() < 0.2 ? requests * Math.floor(rng() * 400) : 0
  const completionTokens = requests * (50 + Math.floor(rng() * 800))
  const cost = promptTokens * Number(model.prompt) + (completionTokens + reasoningTokens) * Number(model.completion)
  addUsage(
    scenario,
    simKey,
    Math.round(cost * 1e9) / 1e9,
    {
      model: model.id,
      provider: pick(rng, model.providers),
      date,
      requests,
      promptTokens,
      completionTokens,
      reasoningTokens
    },
    now
  )
}

/** Live traffic for the demo: a little usage, now, on one random enabled inference key. */
export const trafficTick = (scenario: Scenario, rng: Rng, now: Date): void => {
  const keys = scenario.keys.filter((k) => !k.is_management_key && !k.disabled)
  if (keys.length > 0) spendOnce(scenario, pick(rng, keys), rng, now, daysBefore(now, 0))
}
