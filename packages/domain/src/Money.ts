import { Schema } from "effect"

/**
 * Money is kept as an integer number of micro-dollars (1 USD = 1_000_000), so sums are
 * exact; JSON shows USD rounded to 6 decimals.
 */
export const Micros = Schema.Int.pipe(Schema.brand("Micros"))
export type Micros = typeof Micros.Type

export const NonNegativeMicros = Micros.pipe(Schema.nonNegative())

/** USD as OpenRouter sends it (a float) to exact micro-dollars. */
export const usdToMicros = (usd: number): Micros => Math.round(usd * 1_000_000) as Micros

/**
 * USD as OpenRouter sends it to integer nano-dollars: OpenRouter's figures carry more than 6 decimals (a
 * cheap model's request costs fractions of a micro-dollar), so upstream rows are summed in nano-dollars and
 * the sum rounded to micro-dollars once ({@link nanosToMicros}). Rounding each upstream row first (one per
 * provider endpoint, or per hour) put up to half a micro-dollar of error on every one of them: over a year
 * of rows the recorded all-time total drifted from OpenRouter's own by tens of micro-dollars.
 */
export const usdToNanos = (usd: number): number => Math.round(usd * 1_000_000_000)

/**
 * Integer nano-dollars to micro-dollars, rounded once, half to even. Catalogue prices make exact halves common
 * (2.5 µ$ a token, 0.5 µ$ multiples): rounding them all up made every recorded row lean the same way, a year of
 * rows then summed ~20 µ$ above OpenRouter's all-time figure; half to even leaves no lean.
 */
export const nanosToMicros = (nanos: number): Micros => {
  const whole = Math.floor(nanos / 1_000)
  const rest = nanos - whole * 1_000
  return (rest > 500 || (rest === 500 && whole % 2 !== 0) ? whole + 1 : whole) as Micros
}

/** Micro-dollars to a USD number with at most 6 decimals. */
export const microsToUsd = (micros: number): number => Number((micros / 1_000_000).toFixed(6))
