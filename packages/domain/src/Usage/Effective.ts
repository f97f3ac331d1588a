import { UNATTRIBUTED } from "./Events.js"

/** The figures of one usage row; cost in micro-dollars. */
export interface UsageFiguresSum {
  readonly requests: number
  readonly tokensInput: number
  readonly tokensOutput: number
  readonly cost: number
}

/** One recorded (key, date, model) row. */
export interface UsageLine extends UsageFiguresSum {
  readonly keyId: string
  readonly date: string
  readonly model: string
}

/**
 * The supersede rule of the sync (openrouter-api.md, "Reading usage"): for a (key, date) that has
 * per-model rows from activity, its `unattributed` row does not count (that growth is already broken
 * down by model); without them it counts, so a running "today" shows at once. The one definition:
 * the SQL of the usage read model mirrors it and is tested against it.
 */
export const effectiveLines = <L extends Pick<UsageLine, "keyId" | "date" | "model">>(
  lines: ReadonlyArray<L>
): ReadonlyArray<L> => {
  const attributed = new Set(lines.filter((l) => l.model !== UNATTRIBUTED).map((l) => `${l.keyId}|${l.date}`))
  return lines.filter((l) => l.model !== UNATTRIBUTED || !attributed.has(`${l.keyId}|${l.date}`))
}

export const zeroSum = (): UsageFiguresSum => ({ requests: 0, tokensInput: 0, tokensOutput: 0, cost: 0 })

/** The exact sum of usage figures (integers: micro-dollars, counts). */
export const sumUsage = (lines: Iterable<UsageFiguresSum>): UsageFiguresSum => {
  let requests = 0
  let tokensInput = 0
  let tokensOutput = 0
  let cost = 0
  for (const l of lines) {
    requests += l.requests
    tokensInput += l.tokensInput
    tokensOutput += l.tokensOutput
    cost += l.cost
  }
  return { requests, tokensInput, tokensOutput, cost }
}

/** Sums of `lines` grouped by `keyOf`, in the order each group first appears. */
export const sumUsageBy = <L extends UsageFiguresSum>(
  lines: Iterable<L>,
  keyOf: (line: L) => string
): Map<string, { readonly first: L; readonly sum: UsageFiguresSum }> => {
  const groups = new Map<string, { first: L; sum: UsageFiguresSum }>()
  for (const line of lines) {
    const key = keyOf(line)
    const group = groups.get(key)
    groups.set(key, { first: group?.first ?? line, sum: sumUsage([group?.sum ?? zeroSum(), line]) })
  }
  return groups
}

/**
 * Whether a (key, date)'s figures are still an estimate. They are final once the day has completed (it is
 * before `today`, UTC) and OpenRouter has broken it down per model (activity or daily analytics rows); a
 * running day, or a completed day known only as `unattributed` growth, is an estimate. The one rule the
 * key rows, the dashboard's days and `/api/v1/usage` all mark their figures with.
 */
export const isEstimated = (lines: ReadonlyArray<Pick<UsageLine, "date" | "model">>, today: string): boolean =>
  lines.some((l) => l.date >= today || l.model === UNATTRIBUTED)

/** One key's spend as every screen shows it: today's (always an estimate while it runs) and all-time. */
export interface KeySpend {
  readonly today: UsageFiguresSum
  readonly total: UsageFiguresSum
}

/**
 * The one definition of "today" and "all time" (README, "What the figures mean"): the sums of the key's
 * effective lines (the supersede rule above), of the UTC day `today` and of every day. Not OpenRouter's
 * own `usage_daily`/`usage` counters of `GET /key`, which the key row carries beside them for reference.
 */
export const keySpend = (lines: ReadonlyArray<UsageLine>, today: string): KeySpend => {
  const effective = effectiveLines(lines)
  const ofToday = effective.filter((l) => l.date === today)
  return { today: sumUsage(ofToday), total: sumUsage(effective) }
}
