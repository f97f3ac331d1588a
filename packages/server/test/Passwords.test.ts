import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { Passwords, passwordProblems } from "../src/Auth/Passwords.js"

describe("passwordProblems", () => {
  it("accepts a password that meets every rule", () => {
    expect(passwordProblems("Correct-Horse9")).toEqual([])
    expect(passwordProblems(Redacted.make("Abcdefghij1!"))).toEqual([])
    expect(passwordProblems(`A1!${"a".repeat(125)}`)).toEqual([])
  })

  it("names each missing rule in the original's words", () => {
    expect(passwordProblems("Short1!")).toEqual(["Password must be at least 12 characters"])
    expect(passwordProblems(`A1!${"a".repeat(126)}`)).toEqual(["Password must be at most 128 characters"])
    expect(passwordProblems("lowercase-only-1")).toEqual(["Password must contain uppercase letter"])
    expect(passwordProblems("UPPERCASE-ONLY-1")).toEqual(["Password must contain lowercase letter"])
    expect(passwordProblems("No-Digits-Here!")).toEqual(["Password must contain digit"])
    expect(passwordProblems("NoSpecialChars123")).toEqual(["Password must contain special character"])
    expect(passwordProblems("")).toHaveLength(5)
  })

  it("counts any non-alphanumeric character as special, and letters beyond ASCII", () => {
    for (const special of ["!", "@", "#", "$", "%", "^", "&", "*", "-", "_", " ", ".", "€", "🙂"]) {
      expect(passwordProblems(`Abcdefghijk1${special}`)).toEqual([])
    }
    expect(passwordProblems("Ünïcödé-pässwörd1")).toEqual([])
    expect(passwordProblems("ÉCOLE-ÉTÉ-2024")).toEqual(["Password must contain lowercase letter"])
    // Length is counted in characters, not UTF-16 units: 11 emoji and "Aa1" are 14 characters.
    expect(passwordProblems(`Aa1${"🙂".repeat(125)}`)).toEqual([])
  })
})

describe("Passwords", () => {
  const password = Redacted.make("Correct-Horse-Battery-9")

  it.effect("hashes with argon2id and a random salt; verify accepts only the right password", () =>
    Effect.gen(function* () {
      const passwords = yield* Passwords
      const hash = yield* passwords.hash(password)
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
      expect(hash).not.toContain("Correct-Horse")
      expect(yield* passwords.hash(password)).not.toBe(hash)
      expect(yield* passwords.verify(password, hash)).toBe(true)
      expect(yield* passwords.verify(Redacted.make("Correct-Horse-Battery-8"), hash)).toBe(false)
      expect(yield* passwords.verify(password, "not-a-hash")).toBe(false)
    }).pipe(Effect.provide(Passwords.Default))
  )

  it.effect("the Test layer is cheap argon2id whose hashes the real layer verifies", () =>
    Effect.gen(function* () {
      const cheap = yield* Effect.provide(Passwords, Passwords.Test)
      const real = yield* Effect.provide(Passwords, Passwords.Default)
      const hash = yield* cheap.hash(password)
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/)
      expect(yield* real.verify(password, hash)).toBe(true)
    })
  )
})
