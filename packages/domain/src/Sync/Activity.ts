import { UtcDate } from "../Ids.js"
import { nanosToMicros, usdToNanos } from "../Money.js"
import type { ActivityTotals } from "./Commands.js"

/** One row of OpenRouter's `GET /activity`: one (date, model, provider endpoint), money in USD. */
export interface ActivityLine {
  /** `YYYY-MM-DD`, possibly followed by a time. */
  readonly date: string
  readonly model: string
  readonly requests: number
  readonly prompt_tokens: number
  /** Already includes the reasoning tokens. */
  readonly completion_tokens: number
  readonly usage: number
  readonly byok_usage_inference: number
}

/**
 * Sums activity rows per (date, model), since OpenRouter splits them by provider endpoint (openrouter-api.md,
 * item 2): tokens in = prompt tokens, tokens out = completion tokens, cost = usage, BYOK cost = BYOK inference.
 * Ordered by date, then model.
 */
export const sumActivity = (rows: ReadonlyArray<ActivityLine>): ReadonlyArray<ActivityTotals> => {
  const sums = new Map<string, { totals: ActivityTotals; costNanos: number; byokNanos: number }>()
  for (const row of rows) {
    const date = UtcDate.make(row.date.slice(0, 10))
    const slot = `${date}|${row.model}`
    const before = sums.get(slot)
    // Money summed in nano-dollars and rounded to micro-dollars once per (date, model): see `usdToNanos`.
    const costNanos = (before?.costNanos ?? 0) + usdToNanos(row.usage)
    const byokNanos = (before?.byokNanos ?? 0) + usdToNanos(row.byok_usage_inference)
    sums.set(slot, {
      costNanos,
      byokNanos,
      totals: {
        date,
        model: row.model,
        requests: (before?.totals.requests ?? 0) + row.requests,
        tokensInput: (before?.totals.tokensInput ?? 0) + row.prompt_tokens,
        tokensOutput: (before?.totals.tokensOutput ?? 0) + row.completion_tokens,
        cost: nanosToMicros(costNanos),
        byokCost: nanosToMicros(byokNanos)
      }
    })
  }
  return [...sums.values()].map((s) => s.totals).sort((a, b) => (a.date + a.model).localeCompare(b.date + b.model))
}
