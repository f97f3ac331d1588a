import * as NodeCrypto from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import { vi } from "vitest"
import { generateApiToken, hashApiToken, sameHash } from "../src/Auth/ApiTokens.js"

// The real timingSafeEqual, observed: sameHash must go through it rather than `===`.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>()
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) }
})

describe("ApiTokens", () => {
  it("generates or_api_ + 64 base64url characters, different every time, redacted", () => {
    const tokens = Array.from({ length: 50 }, generateApiToken)
    for (const { token } of tokens) expect(Redacted.value(token)).toMatch(/^or_api_[A-Za-z0-9_-]{64}$/)
    expect(new Set(tokens.map(({ token }) => Redacted.value(token))).size).toBe(50)
    const [first] = tokens
    expect(String(first!.token)).not.toContain("or_api_")
    expect(JSON.stringify(first)).not.toContain(Redacted.value(first!.token))
  })

  it("stores only the SHA-256 hex of the token", () => {
    const { token, hash } = generateApiToken()
    const expected = NodeCrypto.createHash("sha256").update(Redacted.value(token)).digest("hex")
    expect(hash).toBe(expected)
    expect(hashApiToken(token)).toBe(expected)
    expect(hashApiToken(Redacted.value(token))).toBe(expected)
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it("compares hashes: equal, different, and different lengths", () => {
    const a = hashApiToken("or_api_a")
    const b = hashApiToken("or_api_b")
    expect(sameHash(a, `${a}`)).toBe(true)
    expect(sameHash(a, b)).toBe(false)
    expect(sameHash(a, a.slice(0, 63))).toBe(false)
    expect(sameHash(a, "")).toBe(false)
  })

  it("compares in constant time (timingSafeEqual on equal-length buffers)", () => {
    vi.mocked(NodeCrypto.timingSafeEqual).mockClear()
    expect(sameHash(hashApiToken("x"), hashApiToken("x"))).toBe(true)
    expect(sameHash(hashApiToken("x"), hashApiToken("y"))).toBe(false)
    expect(vi.mocked(NodeCrypto.timingSafeEqual)).toHaveBeenCalledTimes(2)
  })
})
