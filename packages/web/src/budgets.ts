/*
 * How budgets read on screen: the share of the amount spent, whether a budget is near or over it,
 * and a period's reset time in the user's own zone and in UTC (periods are counted in UTC).
 */

/** At or above this share of its amount, a budget is "near" it (the dashboard lists it). */
export const NEAR_BUDGET = 0.8

export type BudgetState = "ok" | "near" | "over"

/** `spent / amount` (0 for a zero amount), and whether that is near or over the amount. */
export const budgetState = (budget: { readonly spent: number; readonly amount: number }): BudgetState => {
  const share = budget.amount > 0 ? budget.spent / budget.amount : 0
  return share >= 1 ? "over" : share >= NEAR_BUDGET ? "near" : "ok"
}

/** `64 %` of spent against amount, whole percent. */
export const percentOf = (spent: number, amount: number): string =>
  `${amount > 0 ? Math.floor((spent / amount) * 100) : 0} %`

const local = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZoneName: "short"
})

/** A time as the user's clock shows it (with its zone), and as `YYYY-MM-DD HH:MM UTC`. */
export const localAndUtc = (iso: string): { readonly local: string; readonly utc: string } => ({
  local: local.format(new Date(iso)),
  utc: `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
})

export const PERIODS = ["daily", "weekly", "monthly"] as const
export type Period = (typeof PERIODS)[number]

/** Thresholds typed as `50, 80, 100` (commas or spaces); `null` when one is not a number. */
export const parseThresholds = (text: string): ReadonlyArray<number> | null => {
  const parts = text.split(/[\s,%]+/).filter((part) => part !== "")
  const numbers = parts.map(Number)
  return numbers.every((n) => Number.isFinite(n)) ? numbers : null
}
