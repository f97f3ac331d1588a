import { DateTime, Schema } from "effect"
import { addDays, startOfDay, type UtcDate, utcDateOf } from "../Dates.js"

/** How often a budget resets, in UTC: daily at 00:00, weekly on Monday 00:00 (as OpenRouter), monthly on the 1st. */
export const BudgetPeriod = Schema.Literal("daily", "weekly", "monthly")
export type BudgetPeriod = typeof BudgetPeriod.Type

/** One period: its first day and the first day of the next (exclusive), and the instants they start. */
export interface PeriodWindow {
  readonly start: UtcDate
  /** The first day of the next period: the reset. */
  readonly end: UtcDate
  readonly startAt: DateTime.Utc
  readonly endAt: DateTime.Utc
}

const firstOfMonth = (date: UtcDate, monthsLater: number): UtcDate => {
  const year = Number(date.slice(0, 4))
  const month = Number(date.slice(5, 7)) - 1 + monthsLater
  const y = year + Math.floor(month / 12)
  const m = ((month % 12) + 12) % 12
  return `${String(y).padStart(4, "0")}-${String(m + 1).padStart(2, "0")}-01` as UtcDate
}

/** The period of `period` kind that contains the instant `at` (UTC). */
export const periodOf = (period: BudgetPeriod, at: DateTime.DateTime): PeriodWindow => {
  const today = utcDateOf(at)
  let start: UtcDate
  let end: UtcDate
  switch (period) {
    case "daily":
      start = today
      end = addDays(today, 1)
      break
    case "weekly": {
      // getUTCDay: 0 = Sunday; Monday starts the week.
      const weekday = new Date(DateTime.toEpochMillis(at)).getUTCDay()
      start = addDays(today, -((weekday + 6) % 7))
      end = addDays(start, 7)
      break
    }
    case "monthly":
      start = firstOfMonth(today, 0)
      end = firstOfMonth(today, 1)
      break
  }
  return { start, end, startAt: startOfDay(start), endAt: startOfDay(end) }
}

/** Whether a usage day falls in the period. */
export const inPeriod = (window: PeriodWindow, date: string): boolean => date >= window.start && date < window.end

const HOUR = 3_600_000

/**
 * The period's spend extended linearly to its end: `spent × length / elapsed`. Elapsed time counts at
 * least one hour, so the first minutes of a period (a cent spent at 00:01) do not project a fortune.
 */
export const projectedSpend = (spent: number, window: PeriodWindow, at: DateTime.DateTime): number => {
  const total = DateTime.toEpochMillis(window.endAt) - DateTime.toEpochMillis(window.startAt)
  const elapsed = Math.min(total, Math.max(HOUR, DateTime.toEpochMillis(at) - DateTime.toEpochMillis(window.startAt)))
  return Number((BigInt(spent) * BigInt(total)) / BigInt(elapsed))
}

/** Whether `spent` reaches `percent` % of `amount` (exact: integers, no float products). */
export const reaches = (spent: number, amount: number, percent: number): boolean =>
  BigInt(spent) * 100n >= BigInt(amount) * BigInt(percent)
