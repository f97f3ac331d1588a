import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postRpc } from "./support/rpc.js"
import { type RunningApp, startApp } from "./support/server.js"

let app: RunningApp

beforeAll(async () => {
  app = await startApp()
})

afterAll(async () => {
  await app?.close()
})

/** The session cookie of a freshly registered user, from the JSON API. */
const signUp = async (email: string) => {
  const password = "Correct-Horse-42"
  const json = { "content-type": "application/json" }
  const registered = await fetch(`${app.origin}/api/auth/register`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password, password_confirm: password })
  })
  expect(registered.status).toBe(201)
  const login = await fetch(`${app.origin}/api/auth/login`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password })
  })
  expect(login.status).toBe(200)
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith("orw_session="))
  expect(cookie).toBeDefined()
  return (cookie ?? "").split(";")[0] ?? ""
}

describe("POST /rpc checks the Origin of every call", () => {
  it("refuses a foreign Origin with 403, even with a valid session cookie", async () => {
    const cookie = await signUp("origin-foreign@example.com")
    const own = await postRpc(app.origin, "me", { origin: app.origin, cookie })
    expect(own.status).toBe(200)
    expect(own.text).toContain("origin-foreign@example.com")

    const foreign = await postRpc(app.origin, "me", { origin: "http://evil.example", cookie })
    expect(foreign.status).toBe(403)
    expect(foreign.json).toEqual({ detail: "Cross-origin RPC calls are not allowed" })
    expect(foreign.text).not.toContain("origin-foreign@example.com")
  })

  it("refuses a call without Origin, and one from another port of the same host", async () => {
    const cookie = await signUp("origin-missing@example.com")
    expect((await postRpc(app.origin, "me", { cookie })).status).toBe(403)
    const otherPort = app.origin.replace(/:\d+$/, ":1")
    expect((await postRpc(app.origin, "me", { origin: otherPort, cookie })).status).toBe(403)
    expect((await postRpc(app.origin, "me", { origin: "null", cookie })).status).toBe(403)
  })

  it("answers a same-origin call without a session with the Unauthenticated failure", async () => {
    const answer = await postRpc(app.origin, "me", { origin: app.origin })
    expect(answer.status).toBe(200)
    expect(answer.text).toContain('"_tag":"Unauthenticated"')
    expect(answer.text).toContain("Not authenticated")
  })

  it("refuses a session issued before a password change", async () => {
    const cookie = await signUp("origin-pw@example.com")
    const changed = await postRpc(
      app.origin,
      "changePassword",
      { origin: app.origin, cookie },
      {
        current_password: "Correct-Horse-42",
        new_password: "Battery-Staple-43",
        new_password_confirm: "Battery-Staple-43"
      }
    )
    expect(changed.text).toContain('"_tag":"Success"')
    const after = await postRpc(app.origin, "me", { origin: app.origin, cookie })
    expect(after.text).toContain('"_tag":"Unauthenticated"')
  })
})

describe("web RPCs act only for the caller", () => {
  const KEY = `sk-or-v1-${"ab".repeat(32)}`

  it("answers another user's key with KeyForbidden, and their spend with nothing", async () => {
    const alice = { origin: app.origin, cookie: await signUp("rpc-alice@example.com") }
    const bob = { origin: app.origin, cookie: await signUp("rpc-bob@example.com") }
    const added = await postRpc(app.origin, "addKey", alice, { name: "Alice's", key: KEY })
    const keyId = (added.json as Array<{ exit: { value: { id: string } } }>)[0]?.exit.value.id ?? ""
    expect(keyId).not.toBe("")
    expect(added.text).not.toContain(KEY)

    const renamed = await postRpc(app.origin, "renameKey", bob, { key_id: keyId, name: "Mine now" })
    expect(renamed.text).toContain('"_tag":"KeyForbidden"')
    expect(renamed.text).toContain("Not allowed to access this API key")
    const synced = await postRpc(app.origin, "syncKey", bob, { key_id: keyId })
    expect(synced.text).toContain('"_tag":"KeyForbidden"')

    const spend = await postRpc(app.origin, "dashboard", bob, { key_id: keyId })
    expect(spend.text).toContain('"by_key":[]')
    expect(spend.text).not.toContain("Alice's")
    expect((await postRpc(app.origin, "listKeys", bob)).text).not.toContain(keyId)
  })

  it("refuses a malformed key with InvalidKeyFormat and a reversed date range with InvalidDateRange", async () => {
    const carol = { origin: app.origin, cookie: await signUp("rpc-carol@example.com") }
    const malformed = await postRpc(app.origin, "addKey", carol, { name: "Bad", key: "sk-or-v1-nope" })
    expect(malformed.text).toContain('"_tag":"InvalidKeyFormat"')
    expect(malformed.text).toContain("Invalid API key format")
    const reversed = await postRpc(app.origin, "dashboard", carol, { start_date: "2026-02-01", end_date: "2026-01-01" })
    expect(reversed.text).toContain('"_tag":"InvalidDateRange"')
    expect(reversed.text).toContain("Invalid date range")
  })

  it("sends a refusal as the domain's own error, by tag and with the JSON API's detail", async () => {
    const dave = { origin: app.origin, cookie: await signUp("rpc-dave@example.com") }
    const key = (i: number) => `sk-or-v1-${i.toString(16).padStart(2, "0").repeat(32)}`
    // The e2e server allows 10 keys per user (MAX_API_KEYS_PER_USER's default).
    for (let i = 0; i < 10; i++) {
      expect((await postRpc(app.origin, "addKey", dave, { name: `k${i}`, key: key(i) })).text).toContain('"Success"')
    }
    const refused = await postRpc(app.origin, "addKey", dave, { name: "one too many", key: key(10) })
    const [message] = refused.json as Array<{ exit: { _tag: string; cause: { _tag: string; error: unknown } } }>
    expect(message?.exit._tag).toBe("Failure")
    expect(message?.exit.cause).toEqual({
      _tag: "Fail",
      error: { _tag: "KeyLimitReached", max: 10, detail: "Maximum number of API keys reached (10)" }
    })
  })
})

describe("budget, alert and webhook RPCs", () => {
  const KEY = `sk-or-v1-${"cd".repeat(32)}`
  const exitOf = (answer: { json: unknown }) =>
    (answer.json as Array<{ exit: { _tag: string; value?: unknown; cause?: { error?: { _tag: string } } } }>)[0]?.exit

  it("sets, refuses a second, changes and deletes a budget; another user gets BudgetForbidden", async () => {
    const erin = { origin: app.origin, cookie: await signUp("rpc-erin@example.com") }
    const frank = { origin: app.origin, cookie: await signUp("rpc-frank@example.com") }
    const added = exitOf(await postRpc(app.origin, "addKey", erin, { name: "Erin's", key: KEY }))
    const keyId = ((added?.value ?? {}) as { id?: string }).id
    const created = exitOf(
      await postRpc(app.origin, "createBudget", erin, { scope: "key", key_id: keyId, amount: 5, period: "monthly" })
    )
    expect(created?._tag).toBe("Success")
    const budget = created?.value as { id: string; amount: number; thresholds: number[]; period_end: string }
    expect(budget.amount).toBe(5)
    expect(budget.thresholds).toEqual([50, 80, 100])
    expect(budget.period_end).toMatch(/^\d{4}-\d{2}-01T00:00:00/)

    const again = exitOf(
      await postRpc(app.origin, "createBudget", erin, { scope: "key", key_id: keyId, amount: 9, period: "monthly" })
    )
    expect(again?.cause?.error?._tag).toBe("BudgetAlreadyExists")
    const stolen = exitOf(await postRpc(app.origin, "updateBudget", frank, { budget_id: budget.id, amount: 1 }))
    expect(stolen?.cause?.error?._tag).toBe("BudgetForbidden")
    const changed = exitOf(await postRpc(app.origin, "updateBudget", erin, { budget_id: budget.id, amount: 7 }))
    expect(((changed?.value ?? {}) as { amount?: number }).amount).toBe(7)
    expect(exitOf(await postRpc(app.origin, "deleteBudget", erin, { budget_id: budget.id }))?._tag).toBe("Success")
    expect((await postRpc(app.origin, "listBudgets", erin)).text).not.toContain(budget.id)
    const alerts = exitOf(await postRpc(app.origin, "listAlerts", erin, { page: 1, limit: 10 }))
    expect(alerts?.value).toMatchObject({ items: [], pagination: { page: 1, limit: 10, total: 0 } })
  })

  it("shows a webhook's secret once, lists it without, and refuses a bad URL with InvalidWebhookUrl", async () => {
    const gina = { origin: app.origin, cookie: await signUp("rpc-gina@example.com") }
    const created = exitOf(
      await postRpc(app.origin, "createWebhook", gina, { url: "http://127.0.0.1:9/hook", format: "slack" })
    )
    const hook = created?.value as { id: string; secret: string }
    expect(hook.secret).toMatch(/^whsec_/)
    const listed = await postRpc(app.origin, "listWebhooks", gina)
    expect(listed.text).toContain(hook.id)
    expect(listed.text).not.toContain(hook.secret)
    const bad = exitOf(
      await postRpc(app.origin, "createWebhook", gina, { url: "ftp://example.com/x", format: "generic" })
    )
    expect(bad?.cause?.error?._tag).toBe("InvalidWebhookUrl")
    const henry = { origin: app.origin, cookie: await signUp("rpc-henry@example.com") }
    expect(exitOf(await postRpc(app.origin, "testWebhook", henry, { webhook_id: hook.id }))?.cause?.error?._tag).toBe(
      "WebhookForbidden"
    )
  })
})
