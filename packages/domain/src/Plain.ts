/*
 * The domain constants and pure day checks the web app runs in the browser, in a module that imports nothing:
 * importing a value from a module that defines Schemas (Dates.ts, Usage/Events.ts) brings Effect's Schema into
 * the web bundle with it. Those modules re-export these (one definition each); packages/web/test/plain.test.ts
 * holds both to that.
 */

/** The model name of usage seen only as growth of a key's all-time total. */
export const UNATTRIBUTED = "unattributed"

/** The longest range the dashboard and the usage explorer answer for. */
export const MAX_RANGE_DAYS = 366

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31

/** Whether `s` is `YYYY-MM-DD` naming a day that exists, without parsing it as a time (2026-02-31 does not). */
export const isCalendarDay = (s: string): boolean => {
  const match = DAY.exec(s)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

/** Whether `start`..`end` is a range the server answers for: `start` not after `end`, both included, at most MAX_RANGE_DAYS days. */
export const isAnsweredRange = (start: string, end: string): boolean =>
  start <= end && Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`) < MAX_RANGE_DAYS * 86_400_000
