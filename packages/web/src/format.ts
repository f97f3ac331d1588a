/*
 * How figures read on screen: money as $ with cents (the exact micro-dollars on hover), days as YYYY-MM-DD and times as YYYY-MM-DD HH:MM (UTC, as the server counts days).
 */

const cents = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2
})
const micros = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 6,
  maximumFractionDigits: 6
})

/**
 * `$1,234.56`: always cents, so a column of money lines up and reads alike. An amount that is not zero
 * but rounds to nothing reads `<$0.01` (or `-<$0.01`), never a misleading `$0.00`; the exact figure is
 * {@link usdExact}, which the pages put on hover (`title`).
 */
export const usd = (value: number): string => {
  if (value !== 0 && Math.abs(value) < 0.005) return value < 0 ? "-<$0.01" : "<$0.01"
  return cents.format(value === 0 ? 0 : value)
}

/** The exact figure the server keeps (micro-dollars): `$0.000125`, `$1,234.560000`. */
export const usdExact = (value: number): string => micros.format(value === 0 ? 0 : value)

/** Money that may be unknown (not synced yet, or no management key): `null` reads "unknown", never $0. */
export const usdOrUnknown = (value: number | null, unknown = "unknown"): string =>
  value === null ? unknown : usd(value)

/** Whole numbers with thousands separators. */
export const count = (value: number): string => new Intl.NumberFormat("en-US").format(value)

/** `YYYY-MM-DD` of an ISO time (or a day). */
export const day = (iso: string | null, missing = "never"): string => (iso === null ? missing : iso.slice(0, 10))

/** `YYYY-MM-DD HH:MM` (UTC) of an ISO time. */
export const dateTime = (iso: string | null, missing = "never"): string =>
  iso === null ? missing : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`

/** Share of a key's limit still available, 0..1; `null` for unlimited keys or before the first sync. */
export const remainingShare = (key: { limit: number | null; limit_remaining: number | null }): number | null =>
  key.limit === null || key.limit_remaining === null || key.limit <= 0 ? null : key.limit_remaining / key.limit

/** Below this share of its limit left, a key is "near its limit". */
export const NEAR_LIMIT = 0.2

/**
 * A limit typed in USD: null for an empty field (no limit), the amount when it is a finite number of at least 0,
 * undefined otherwise (a number that overflows, such as 1e309, would be sent as null: no limit).
 */
export const limitOf = (typed: string): number | null | undefined => {
  const text = typed.trim()
  if (text === "") return null
  const amount = Number(text)
  return Number.isFinite(amount) && amount >= 0 ? amount : undefined
}
