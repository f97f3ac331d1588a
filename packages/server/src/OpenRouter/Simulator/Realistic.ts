import { charge } from "./Completions.js"
import type { Scenario, SimActivityRow, SimKey, SimModel } from "./Scenario.js"
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

/** A key's average day over the 90 completed days before `now`: nano-dollars, requests, tokens. */
const averageDay = (k: SimKey, now: Date) => {
  const from = daysBefore(now, 90)
  const to = daysBefore(now, 1)
  const rows = k.activity.filter((r) => r.date >= from && r.date <= to)
  const sum = (f: (r: SimActivityRow) => number) => rows.reduce((n, r) => n + f(r), 0) / 90
  return {
    usage: sum((r) => r.usage),
    requests: sum((r) => r.requests),
    prompt: sum((r) => r.prompt_tokens),
    completion: sum((r) => r.completion_tokens)
  }
}

/**
 * Live traffic for the demo at a realistic rate: each tick is `share` of a day (tick length / 24 h), and
 * spends that share of a random key's average day (so today's bar ends in scale with the 90 days before
 * it), with whole requests drawn to the same rate. It spends through the simulator's one rule (`charge`, as
 * `POST /chat/completions` does): a key past its limit is refused (402) and its spend stops growing.
 */
export const trafficTick = (scenario: Scenario, rng: Rng, now: Date, share = 3 / 86_400): void => {
  const keys = scenario.keys.filter((k) => !k.is_management_key && !k.disabled)
  if (keys.length === 0) return
  const key = pick(rng, keys)
  const day = averageDay(key, now)
  const scale = share * keys.length * (0.5 + rng())
  const usage = Math.round(day.usage * scale)
  const requests = Math.floor(day.requests * scale + rng())
  if (usage <= 0 && requests === 0) return
  const model = pick(rng, scenario.models)
  charge(
    scenario,
    key,
    usage / 1e9,
    {
      model: model.id,
      provider: pick(rng, model.providers),
      requests,
      promptTokens: Math.round(day.prompt * scale),
      completionTokens: Math.round(day.completion * scale)
    },
    now
  )
}
