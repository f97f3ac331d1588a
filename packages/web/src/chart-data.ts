/*
 * The series a chart draws, from the explorer's rows: one value per period for each model or key (the
 * biggest few, the rest summed as "Other"), stacked for the bars. Sums of money go through micro-dollars,
 * so the chart's read-out and its table show the server's exact figures.
 */

export interface ChartSeries {
  readonly label: string
  readonly values: ReadonlyArray<number>
}

export interface ChartData {
  /** The periods (`YYYY-MM-DD`, the first day of each), in order. */
  readonly x: ReadonlyArray<string>
  readonly series: ReadonlyArray<ChartSeries>
}

/** Adds amounts of USD exactly (as the server does: in micro-dollars). */
export const addUsd = (a: number, b: number): number => (Math.round(a * 1e6) + Math.round(b * 1e6)) / 1e6

/** Every day from `start` to `end`, both included. */
export const daysFrom = (start: string, end: string): ReadonlyArray<string> => {
  const days: Array<string> = []
  for (let at = Date.parse(`${start}T00:00:00Z`); at <= Date.parse(`${end}T00:00:00Z`); at += 86_400_000)
    days.push(new Date(at).toISOString().slice(0, 10))
  return days
}

/** The name of the series that sums what is beyond the biggest ones. */
export const OTHER = "Other"

/**
 * One series per label with `value(row)` per period in `x` (zero where a label has no row), the biggest
 * `max - 1` labels by total first, and the rest summed as {@link OTHER}. `add` sums two values (exactly, for money).
 */
export const seriesBy = <R extends { readonly date: string; readonly label: string }>(
  rows: ReadonlyArray<R>,
  x: ReadonlyArray<string>,
  value: (row: R) => number,
  options: { readonly max?: number; readonly add?: (a: number, b: number) => number } = {}
): ChartData => {
  const add = options.add ?? ((a, b) => a + b)
  const max = options.max ?? 8
  const index = new Map(x.map((date, i) => [date, i]))
  const totals = new Map<string, number>()
  for (const row of rows) totals.set(row.label, add(totals.get(row.label) ?? 0, value(row)))
  const ranked = [...totals].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).map(([label]) => label)
  const kept = ranked.length > max ? ranked.slice(0, max - 1) : ranked
  const labels = ranked.length > kept.length ? [...kept, OTHER] : kept
  const slot = new Map(kept.map((label, i) => [label, i]))
  const values = labels.map(() => x.map(() => 0))
  for (const row of rows) {
    const i = index.get(row.date)
    if (i === undefined) continue
    const series = values[slot.get(row.label) ?? labels.length - 1]
    if (series !== undefined) series[i] = add(series[i] ?? 0, value(row))
  }
  return { x, series: labels.map((label, i) => ({ label, values: values[i] ?? [] })) }
}

/**
 * Stacked bars drawn one over the other: series i reaches the sum of the shown series i..n, so drawn in
 * order (the tallest first) each shows its own value on top of the ones after it. Hidden series are null.
 */
export const stackFromTop = (
  series: ReadonlyArray<ReadonlyArray<number>>,
  shown: ReadonlyArray<boolean>
): Array<Array<number | null>> => {
  const length = series[0]?.length ?? 0
  const running = Array.from({ length }, () => 0)
  const out: Array<Array<number | null>> = series.map(() => [])
  for (let s = series.length - 1; s >= 0; s--) {
    const values = series[s] ?? []
    if (shown[s] === false) {
      out[s] = values.map(() => null)
      continue
    }
    for (let i = 0; i < length; i++) running[i] = (running[i] ?? 0) + (values[i] ?? 0)
    out[s] = [...running]
  }
  return out
}

/** USD with every decimal the server keeps (up to 6, at least 2): the chart's read-out of an exact figure. */
export const exactUsd = (value: number): string =>
  new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: 6
  }).format(value)

/** Colours of the series, distinct in light and dark themes; "Other" takes the last. */
export const PALETTE = [
  "#6366f1",
  "#f59e0b",
  "#10b981",
  "#ef4444",
  "#0ea5e9",
  "#a855f7",
  "#84cc16",
  "#ec4899",
  "#94a3b8"
] as const

/** The sum of `value(row)` per period in `x` (zero where there is no row). */
export const totalPer = <R extends { readonly date: string }>(
  rows: ReadonlyArray<R>,
  x: ReadonlyArray<string>,
  value: (row: R) => number
): ReadonlyArray<number> => {
  const index = new Map(x.map((date, i) => [date, i]))
  const totals = x.map(() => 0)
  for (const row of rows) {
    const i = index.get(row.date)
    if (i !== undefined) totals[i] = (totals[i] ?? 0) + value(row)
  }
  return totals
}
