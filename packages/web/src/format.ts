/*
 * How figures read on screen: money as $ with as many decimals as make a small amount
 * visible, days as YYYY-MM-DD and times as YYYY-MM-DD HH:MM (UTC, as the server counts days).
 */

const formatters = new Map<number, Intl.NumberFormat>()
const currency = (decimals: number) => {
  let formatter = formatters.get(decimals)
  if (formatter === undefined) {
    formatter = new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: "USD",
      minimumFractionDigits: 2,
      maximumFractionDigits: decimals
    })
    formatters.set(decimals, formatter)
  }
  return formatter
}

/** `$1,234.56`; cents for a dollar or more, up to 4 decimals above a cent, up to 6 below (`$0.000125`). */
export const usd = (value: number): string => {
  const size = Math.abs(value)
  return currency(size >= 1 || size === 0 ? 2 : size >= 0.01 ? 4 : 6).format(value)
}

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
