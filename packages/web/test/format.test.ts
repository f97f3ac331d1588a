import { describe, expect, it } from "vitest"
import { limitOf, usd, usdExact, usdOrUnknown } from "../src/format.js"

describe("money: cents in every column, the exact figure on hover", () => {
  it("always two decimals, whatever the size", () => {
    expect([1234.5, 1, 0.5, 0.25, 0.0125, 0.01, 0].map(usd)).toEqual([
      "$1,234.50",
      "$1.00",
      "$0.50",
      "$0.25",
      "$0.01",
      "$0.01",
      "$0.00"
    ])
  })

  it("rounds half a cent up, and a non-zero amount below it is <$0.01, never $0.00", () => {
    expect(usd(0.005)).toBe("$0.01")
    expect(usd(0.000125)).toBe("<$0.01")
    expect(usd(-0.000125)).toBe("-<$0.01")
    expect(usd(-0)).toBe("$0.00")
    expect(usd(-2.5)).toBe("-$2.50")
  })

  it("the exact figure has the server's six decimals (micro-dollars)", () => {
    expect([0.000125, 1234.56, 0, 0.1 + 0.2].map(usdExact)).toEqual([
      "$0.000125",
      "$1,234.560000",
      "$0.000000",
      "$0.300000"
    ])
  })

  it("unknown money reads as unknown, not $0", () => {
    expect(usdOrUnknown(null)).toBe("unknown")
    expect(usdOrUnknown(null, "–")).toBe("–")
    expect(usdOrUnknown(3)).toBe("$3.00")
  })
})

describe("limitOf: the limit field", () => {
  it("empty is no limit; a finite amount of 0 or more is itself; anything else is refused", () => {
    expect(["", "  ", "0", "12.5", " 3 ", "1e3"].map(limitOf)).toEqual([null, null, 0, 12.5, 3, 1000])
    // 1e309 overflows to Infinity, which JSON would send as null: no limit. It must be refused instead.
    expect(["1e309", "-1", "abc", "Infinity", "NaN"].map(limitOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined
    ])
  })
})
