import { Simulator } from "@orw/server/OpenRouter/Simulator"

const DAY_MS = 86_400_000
/** The UTC day `n` days before today. */
export const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10)

/** Spend of the inference key: [days ago, model, provider, USD, requests]; completed days come as activity. */
const ACTIVITY: ReadonlyArray<readonly [number, string, string, number, number]> = [
  [1, "openai/gpt-4.1", "OpenAI", 0.75, 3],
  [1, "openai/gpt-4.1", "Azure", 0.25, 2],
  [1, "anthropic/claude-sonnet-4", "Anthropic", 1.2, 4],
  [2, "google/gemini-2.5-flash", "Google AI Studio", 0.0125, 5],
  [3, "anthropic/claude-sonnet-4", "Google", 0.8, 2],
  [5, "openai/gpt-4.1", "OpenAI", 1.1875, 6],
  // Spent today before the first sync: not in activity (today is never reported), but hourly analytics
  // split it per model at once (issue 8, point 4), so the dashboard counts it as an estimate of today.
  [0, "openai/gpt-4.1", "OpenAI", 0.1, 1]
]
/** The inference key's limit (USD, no reset): the spend leaves it near its limit. */
export const LIMIT = 5

const sum = <A>(items: ReadonlyArray<A>, f: (a: A) => number) => items.reduce((n, a) => n + f(a), 0)
/** Sums money the way the server does: exact micro-dollars, shown as USD. */
const usd = (values: ReadonlyArray<number>) => sum(values, (v) => Math.round(v * 1e6)) / 1e6

const group = (key: (row: (typeof ACTIVITY)[number]) => string) => {
  const groups = new Map<string, { cost: number; requests: number }>()
  for (const row of ACTIVITY) {
    const before = groups.get(key(row)) ?? { cost: 0, requests: 0 }
    groups.set(key(row), { cost: usd([before.cost, row[3]]), requests: before.requests + row[4] })
  }
  return groups
}

/** The figures the dashboard must show for this scenario (default range: the last 30 days). */
export const expected = {
  totalCost: usd(ACTIVITY.map((row) => row[3])),
  totalRequests: sum(ACTIVITY, (row) => row[4]),
  byModel: group((row) => row[1]),
  byDay: group((row) => daysAgo(row[0])),
  /** $100 of credits less everything spent, today included. */
  balance: usd([100, -usd(ACTIVITY.map((row) => row[3]))]),
  limitRemaining: usd([LIMIT, -usd(ACTIVITY.map((row) => row[3]))])
}

/** A simulator with a management key and an inference key that has spent over several days and models. */
export const scenario = () => {
  const simulator = new Simulator()
  const management = simulator.addKey({ name: "Management", isManagementKey: true })
  const production = simulator.addKey({ name: "Production", limit: LIMIT })
  for (const [ago, model, provider, cost, requests] of ACTIVITY) {
    simulator.addUsage(production, cost, {
      model,
      provider,
      date: daysAgo(ago),
      requests,
      promptTokens: requests * 400,
      completionTokens: requests * 90
    })
  }
  return { simulator, management, production }
}
