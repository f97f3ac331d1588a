import { DateTime, Schema } from "effect"

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31

/** Whether `s` is `YYYY-MM-DD` naming a day that exists (2026-02-31 does not), without parsing it as a time. */
export const isCalendarDay = (s: string): boolean => {
  const match = DAY.exec(s)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

/** A UTC calendar day, `YYYY-MM-DD`, that exists. */
export const UtcDate = Schema.String.pipe(
  Schema.filter(isCalendarDay, { message: () => "must be a date YYYY-MM-DD" }),
  Schema.brand("UtcDate")
).annotations({ description: "A UTC day, YYYY-MM-DD" })
export type UtcDate = typeof UtcDate.Type

/** The UTC day of an instant. */
export const utcDateOf = (at: DateTime.DateTime): UtcDate => UtcDate.make(DateTime.formatIsoDateUtc(at))

/** Midnight UTC at the start of `date`. */
export const startOfDay = (date: UtcDate): DateTime.Utc => DateTime.unsafeMake(`${date}T00:00:00.000Z`)

/** The day `days` after `date` (before, when negative). */
export const addDays = (date: UtcDate, days: number): UtcDate => utcDateOf(DateTime.add(startOfDay(date), { days }))

/** The longest range the dashboard and the usage explorer answer for: a year, a leap day included. */
export const MAX_RANGE_DAYS = 366

/**
 * Whether `start`..`end` (both included, calendar days as `isCalendarDay` checks) is a range the server
 * answers for: `start` not after `end`, at most MAX_RANGE_DAYS days. The web app checks it before asking.
 */
export const isAnsweredRange = (start: string, end: string): boolean =>
  start <= end && Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`) < MAX_RANGE_DAYS * 86_400_000

/** How many days from `start` to `end` (negative when `end` is earlier). */
export const daysBetween = (start: UtcDate, end: UtcDate): number =>
  Math.round(DateTime.distance(startOfDay(start), startOfDay(end)) / 86_400_000)
