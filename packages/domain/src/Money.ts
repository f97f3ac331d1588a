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

/** Micro-dollars to a USD number with at most 6 decimals. */
export const microsToUsd = (micros: number): number => Number((micros / 1_000_000).toFixed(6))
