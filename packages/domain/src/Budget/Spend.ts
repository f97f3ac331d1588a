import { HashMap } from "effect"
import { addDays, type UtcDate } from "../Dates.js"
import type { ApiKeyId } from "../Ids.js"
import type { UsageState } from "../Usage/Decider.js"
import { effectiveLines, sumUsage, type UsageLine } from "../Usage/Effective.js"
import { inPeriod, type PeriodWindow } from "./Period.js"

/** A key's usage stream as a budget decision sees it. */
export interface KeyUsage {
  readonly keyId: ApiKeyId
  readonly usage: UsageState
}

/** The recorded rows of some keys, as the read model holds them. */
export const usageLines = (keys: ReadonlyArray<KeyUsage>): ReadonlyArray<UsageLine> =>
  keys.flatMap(({ keyId, usage }) =>
    [...HashMap.entries(usage.totals)].map(([slot, totals]): UsageLine => {
      const cut = slot.indexOf("|")
      return {
        keyId,
        date: slot.slice(0, cut),
        model: slot.slice(cut + 1),
        requests: totals.requests,
        tokensInput: totals.tokensInput,
        tokensOutput: totals.tokensOutput,
        cost: totals.cost
      }
    })
  )

/**
 * The spend of a period in micro-dollars: effective rows (the supersede rule) summed exactly, the
 * same figure `/api/v1/stats` gives for the period's dates.
 */
export const spentIn = (lines: ReadonlyArray<UsageLine>, window: PeriodWindow): number =>
  sumUsage(effectiveLines(lines.filter((l) => inPeriod(window, l.date)))).cost

/** The effective spend of one day. */
export const spentOn = (lines: ReadonlyArray<UsageLine>, date: UtcDate): number =>
  sumUsage(effectiveLines(lines.filter((l) => l.date === date))).cost

/** The spend of the 7 completed days before `date`. */
export const trailingWeek = (lines: ReadonlyArray<UsageLine>, date: UtcDate): number => {
  const from = addDays(date, -7)
  return sumUsage(effectiveLines(lines.filter((l) => l.date >= from && l.date < date))).cost
}
