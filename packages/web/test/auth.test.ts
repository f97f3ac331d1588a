import { afterEach, describe, expect, it, vi } from "vitest"
import { deleteAccount, login, logout } from "../src/auth.js"
import { isUnreachable } from "../src/controllers/retry.js"
import { errorMessage } from "../src/controllers/server-task.js"

/** Answers every fetch with `body` and `status`, recording the requests. */
const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
  const calls: Array<{ url: string; init: RequestInit }> = []
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, init })
    return new Response(status === 204 ? null : body, { status, headers })
  })
  return calls
}

const failure = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error
  )

afterEach(() => vi.unstubAllGlobals())

describe("the JSON auth calls (fetch, no Effect)", () => {
  it("posts JSON with the session cookie, and resolves on a 2xx", async () => {
    const calls = answer(200, JSON.stringify({ ok: true }))
    await login("a@example.com", "pw")
    expect(calls[0]?.url).toBe("/api/auth/login")
    expect(calls[0]?.init).toMatchObject({ method: "POST", credentials: "same-origin" })
    expect(new Headers(calls[0]?.init.headers).get("content-type")).toBe("application/json")
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual({ email: "a@example.com", password: "pw" })
    answer(204, "")
    await logout()
  })

  it("a refusal is an AuthError with the server's detail, or its listed problems", async () => {
    answer(401, JSON.stringify({ detail: "Invalid credentials" }))
    const refused = await failure(login("a@example.com", "wrong"))
    expect(refused).toMatchObject({ _tag: "AuthError", message: "Invalid credentials", problems: [] })
    expect(isUnreachable(refused)).toBe(false)
    answer(422, JSON.stringify({ detail: [{ msg: "password: too short" }, "email: missing"] }))
    expect(await failure(deleteAccount("x"))).toMatchObject({
      message: "password: too short; email: missing",
      problems: ["password: too short", "email: missing"]
    })
    answer(500, "not json")
    expect(await failure(login("a@example.com", "pw"))).toMatchObject({ message: "The server answered 500" })
  })

  it("a 429 says when to try again; no answer at all is 'cannot be reached'", async () => {
    answer(429, JSON.stringify({ detail: "Too many requests" }), { "retry-after": "42" })
    const limited = await failure(login("a@example.com", "pw"))
    expect(errorMessage(limited)).toMatch(/^Too many attempts: try again in 42 s \(at \d\d:\d\d:\d\d UTC\)\.$/)
    vi.stubGlobal("fetch", () => Promise.reject(new TypeError("Failed to fetch")))
    const gone = await failure(login("a@example.com", "secret-password"))
    expect(gone).toMatchObject({ _tag: "AuthError", unreachable: true, message: "The server cannot be reached" })
    expect(isUnreachable(gone)).toBe(true)
    // The password never reaches the error.
    expect(JSON.stringify(gone)).not.toContain("secret-password")
    expect(String(gone)).not.toContain("secret-password")
  })
})
