import { HashMap } from "effect"
import type { UtcDate } from "../Dates.js"
import type { ApiKeyId } from "../Ids.js"
import type { UsageState } from "../Usage/Decider.js"
import { effectiveLines, sumUsage, type UsageLine } from "../Usage/Effective.js"
import type { UsageTotals } from "../Usage/Events.js"
import { inPeriod, type PeriodWindow } from "./Period.js"

/** A key's usage stream as a budget decision sees it. */
export interface KeyUsage {
  readonly keyId: ApiKeyId
  readonly usage: UsageState
}

const lineOf = (keyId: ApiKeyId, date: string, model: string, totals: UsageTotals): UsageLine => ({
  keyId,
  date,
  model,
  requests: totals.requests,
  tokensInput: totals.tokensInput,
  tokensOutput: totals.tokensOutput,
  cost: totals.cost
})

/** The recorded rows of some keys, as the read model holds them: every day of their history. */
export const usageLines = (keys: ReadonlyArray<KeyUsage>): ReadonlyArray<UsageLine> =>
  keys.flatMap(({ keyId, usage }) =>
    [...HashMap.entries(usage.totals)].map(([slot, totals]): UsageLine => {
      const cut = slot.indexOf("|")
      return lineOf(keyId, slot.slice(0, cut), slot.slice(cut + 1), totals)
    })
  )

const DAY_MS = 86_400_000

/**
 * The day `days` after `date` (before, when negative): `addDays` in plain date arithmetic, without a
 * DateTime or a check of the result (a calendar day shifted by whole days is one), for the hot path.
 */
export const shiftDays = (date: UtcDate, days: number): UtcDate =>
  new Date(Date.parse(`${date}T00:00:00.000Z`) + days * DAY_MS).toISOString().slice(0, 10) as UtcDate

/** The calendar days from `from` up to `until` (excluded), oldest first. */
export const daysFrom = (from: UtcDate, until: UtcDate): ReadonlyArray<string> => {
  const days: Array<string> = []
  const end = Date.parse(`${until}T00:00:00.000Z`)
  for (let t = Date.parse(`${from}T00:00:00.000Z`); t < end; t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10))
  }
  return days
}

/**
 * The recorded rows of some keys on the days from `from` up to `until` (excluded): the lines of
 * {@link usageLines} in that range (every recorded date is a calendar day), read off the usage's date
 * index, so their cost is the days asked for, not the keys' history.
 */
export const usageLinesBetween = (
  keys: ReadonlyArray<KeyUsage>,
  from: UtcDate,
  until: UtcDate
): ReadonlyArray<UsageLine> => {
  const days = daysFrom(from, until)
  const lines: Array<UsageLine> = []
  for (const { keyId, usage } of keys) {
    for (const date of days) {
      const models = HashMap.get(usage.byDate, date)
      if (models._tag === "None") continue
      for (const [model, totals] of models.value) lines.push(lineOf(keyId, date, model, totals))
    }
  }
  return lines
}

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
  const from = shiftDays(date, -7)
  return sumUsage(effectiveLines(lines.filter((l) => l.date >= from && l.date < date))).cost
}
