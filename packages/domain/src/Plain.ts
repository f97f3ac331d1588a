/*
 * Effect-free copies of the domain constants and pure helpers the web app runs in the browser. Their originals
 * (Dates.ts, Usage/Events.ts) sit next to Schemas, and importing a value from such a module brings Effect's Schema
 * into the web bundle with it; this module imports nothing. packages/web/test/plain.test.ts holds every copy to its
 * original (the same answers, the same values).
 */

/** The model name of usage seen only as growth of a key's all-time total (`UNATTRIBUTED` of Usage/Events.ts). */
export const UNATTRIBUTED = "unattributed"

/** The longest range the dashboard and the usage explorer answer for (`MAX_RANGE_DAYS` of Dates.ts). */
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

/** Whether `s` is `YYYY-MM-DD` naming a day that exists (`isCalendarDay` of Dates.ts). */
export const isCalendarDay = (s: string): boolean => {
  const match = DAY.exec(s)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

/** Whether `start`..`end` is a range the server answers for (`isAnsweredRange` of Dates.ts). */
export const isAnsweredRange = (start: string, end: string): boolean =>
  start <= end && Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`) < MAX_RANGE_DAYS * 86_400_000
