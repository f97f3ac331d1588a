import { describe, expect, it } from "vitest"
import { isSendable, registrationProblems, retryAfterSeconds, tooManyAttempts } from "../src/registration.js"

const GOOD = "Analytical-Engine-1843"

describe("registration: the form sends only what the server will accept", () => {
  it("a valid form is sendable", () => {
    const problems = registrationProblems("ada@example.com", GOOD, GOOD)
    expect(problems).toEqual({})
    expect(isSendable(problems)).toBe(true)
  })

  it("the email shape the server requires", () => {
    for (const email of [
      "",
      "ada",
      "ada@example",
      "ada@example.c",
      "a da@example.com",
      `${"a".repeat(250)}@example.com`
    ]) {
      expect([email, registrationProblems(email, GOOD, GOOD).email]).toEqual([email, expect.stringContaining("email")])
    }
    expect(registrationProblems("  Ada@Example.COM ", GOOD, GOOD)).toEqual({})
  })

  it("every password rule, in the server's words", () => {
    expect(registrationProblems("ada@example.com", "short", "short").password).toEqual([
      "Password must be at least 12 characters",
      "Password must contain uppercase letter",
      "Password must contain digit",
      "Password must contain special character"
    ])
    expect(registrationProblems("ada@example.com", "alllowercase-1", "alllowercase-1").password).toEqual([
      "Password must contain uppercase letter"
    ])
  })

  it("the confirmation must match", () => {
    const problems = registrationProblems("ada@example.com", GOOD, `${GOOD}!`)
    expect(problems).toEqual({ confirm: "Passwords do not match" })
    expect(isSendable(problems)).toBe(false)
  })
})

describe("a 429 says when to try again", () => {
  const now = new Date("2026-12-02T14:02:30Z")

  it("from Retry-After in seconds", () => {
    expect(retryAfterSeconds("42", now)).toBe(42)
    expect(retryAfterSeconds("0", now)).toBe(1)
    expect(tooManyAttempts("42", now)).toBe("Too many attempts: try again in 42 s (at 14:03:12 UTC).")
  })

  it("from Retry-After as an HTTP date", () => {
    expect(retryAfterSeconds("Wed, 02 Dec 2026 14:03:00 GMT", now)).toBe(30)
  })

  it("without a readable Retry-After: a minute, as the limit's window", () => {
    expect(retryAfterSeconds(undefined, now)).toBeUndefined()
    expect(retryAfterSeconds("soon", now)).toBeUndefined()
    expect(tooManyAttempts(null, now)).toBe("Too many attempts: wait a minute and try again.")
  })
})
