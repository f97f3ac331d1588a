import { DateTime, Schema } from "effect"
import { isCalendarDay } from "./Plain.js"

/** Day checks and the range bound live in Plain.ts (no imports: the web app runs them too). */
export { isAnsweredRange, isCalendarDay, MAX_RANGE_DAYS } from "./Plain.js"

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

/** How many days from `start` to `end` (negative when `end` is earlier). */
export const daysBetween = (start: UtcDate, end: UtcDate): number =>
  Math.round(DateTime.distance(startOfDay(start), startOfDay(end)) / 86_400_000)
