import { UtcDate } from "../Ids.js"
import { usdToMicros } from "../Money.js"
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
  const sums = new Map<string, ActivityTotals>()
  for (const row of rows) {
    const date = UtcDate.make(row.date.slice(0, 10))
    const slot = `${date}|${row.model}`
    const before = sums.get(slot)
    sums.set(slot, {
      date,
      model: row.model,
      requests: (before?.requests ?? 0) + row.requests,
      tokensInput: (before?.tokensInput ?? 0) + row.prompt_tokens,
      tokensOutput: (before?.tokensOutput ?? 0) + row.completion_tokens,
      // Each row to micro-dollars first: the sum of exact integers stays exact.
      cost: (before?.cost ?? 0) + usdToMicros(row.usage),
      byokCost: (before?.byokCost ?? 0) + usdToMicros(row.byok_usage_inference)
    })
  }
  return [...sums.values()].sort((a, b) => (a.date + a.model).localeCompare(b.date + b.model))
}
