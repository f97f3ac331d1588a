import { SqlClient } from "@effect/sql"
import { type AttemptResult, DeliveryWorker } from "@orw/server/Webhooks/Delivery"
import { verifySignature } from "@orw/server/Webhooks/Payload"
import { Effect, Exit, Queue, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startReceiver } from "../support/receiver.js"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

const addHook = async (jwt: string, url: string, format = "generic") => {
  const r = await api.request("POST", "/api/webhooks", { bearer: jwt, json: { url, format } })
  expect(r.status, r.text).toBe(201)
  return r.body as { id: string; url: string; format: string; secret: string; created_at: string }
}

/**
 * A user whose key has a budget about to fire: `fire()` syncs $10 of a $10 daily budget (its one threshold,
 * 100 %; spent reaching the amount, the projection fires no forecast, so exactly one alert).
 */
const armed = async () => {
  const user = await api.user("hook")
  const key = server.sim.addKey({ usage: { total: 1 } })
  const keyId = await api.addKey(user.jwt, key, "prod key")
  await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: user.jwt })
  const budget = await api.request("POST", "/api/budgets", {
    bearer: user.jwt,
    json: { scope: "key", key_id: keyId, amount: 10, period: "daily", thresholds: [100] }
  })
  const fire = async () => {
    server.sim.addUsage(key, 10)
    await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: user.jwt })
  }
  return { ...user, keyId, budgetId: budget.body.id as string, fire }
}

/**
 * Follows the worker's attempt results from now on (subscribed before this resolves), so a test waits for
 * an attempt to be recorded rather than sleeping.
 */
const watchAttempts = async () => {
  const scope = await server.run(Scope.make())
  const results = await server.run(Effect.flatMap(DeliveryWorker, (w) => Scope.extend(w.results, scope)))
  const seen: Array<AttemptResult> = []
  const next = (predicate: (r: AttemptResult) => boolean): Promise<AttemptResult> =>
    server.run(
      Effect.gen(function* () {
        const found = seen.find(predicate)
        if (found) return found
        while (true) {
          const r = yield* Queue.take(results)
          seen.push(r)
          if (predicate(r)) return r
        }
      })
    )
  return { next, close: () => server.run(Scope.close(scope, Exit.void)) }
}

const deliveriesOf = async (jwt: string, hookId: string) =>
  (await api.request("GET", `/api/webhooks/${hookId}/deliveries`, { bearer: jwt })).body.items

/** Dumps every table and the log, to look for a secret in them. */
const everything = () =>
  server.run(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      // The server runs on either engine (ORW_TEST_DB=pg): list its tables the engine's way.
      const tables = yield* sql.onDialectOrElse({
        pg: () =>
          sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
        orElse: () => sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
      })
      const dumps = yield* Effect.forEach(tables, (t) => sql.unsafe(`SELECT * FROM "${t.name}"`))
      return JSON.stringify(dumps)
    })
  )

describe("/api/webhooks", () => {
  it("201 shows the secret once; the list never does; no table, event or log holds it in plaintext", async () => {
    const u = await api.user("hook")
    const hook = await addHook(u.jwt, "https://hooks.example.com/orw", "slack")
    expect(hook.secret).toMatch(/^whsec_/)
    const list = await api.request("GET", "/api/webhooks", { bearer: u.jwt })
    expect(list.body.items).toEqual([{ id: hook.id, url: hook.url, format: "slack", created_at: hook.created_at }])
    expect(list.text).not.toContain(hook.secret)
    expect(await everything()).not.toContain(hook.secret)
    expect(server.logs.join("\n")).not.toContain(hook.secret)
  })

  it("http(s) only; a bad body is 422; another user's webhook 403; DELETE 204 shreds its secret", async () => {
    const u = await api.user("hook")
    for (const url of ["ftp://example.com/x", "javascript:alert(1)", "not a url"]) {
      const r = await api.request("POST", "/api/webhooks", { bearer: u.jwt, json: { url } })
      expect(r.status).toBe(400)
      expect(r.body.detail).toMatch(/^Invalid webhook URL/)
    }
    expect(
      (
        await api.request("POST", "/api/webhooks", {
          bearer: u.jwt,
          json: { url: "https://x.example", format: "teams" }
        })
      ).status
    ).toBe(422)
    const hook = await addHook(u.jwt, "https://hooks.example.com/a")
    const other = await api.user("other")
    expect((await api.request("DELETE", `/api/webhooks/${hook.id}`, { bearer: other.jwt })).status).toBe(403)
    expect((await api.request("GET", `/api/webhooks/${hook.id}/deliveries`, { bearer: other.jwt })).status).toBe(403)
    expect((await api.request("POST", `/api/webhooks/${hook.id}/test`, { bearer: other.jwt })).status).toBe(403)
    const vaultRows = () =>
      server.run(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT key_id FROM key_vault WHERE key_id = ${hook.id}`)
      )
    expect(await vaultRows()).toHaveLength(1)
    expect((await api.request("DELETE", `/api/webhooks/${hook.id}`, { bearer: u.jwt })).status).toBe(204)
    expect(await vaultRows()).toHaveLength(0)
    expect((await api.request("DELETE", `/api/webhooks/${hook.id}`, { bearer: u.jwt })).status).toBe(404)
  })

  it("in production, loopback and private hosts are refused unless WEBHOOK_ALLOW_PRIVATE", async () => {
    const prod = await startServer({ production: true })
    const allowed = await startServer({ production: true, webhookAllowPrivate: true })
    try {
      for (const [target, status] of [
        [prod, 400],
        [allowed, 201]
      ] as const) {
        const c = client(target.url)
        const u = await c.user("prod")
        for (const url of [
          "http://127.0.0.1:9/x",
          "http://localhost/x",
          "http://10.1.2.3/x",
          "http://[::1]/x",
          "http://192.168.1.1/"
        ]) {
          const r = await c.request("POST", "/api/webhooks", { bearer: u.jwt, json: { url } })
          expect(r.status, url).toBe(status)
        }
        expect(
          (
            await c.request("POST", "/api/webhooks", {
              bearer: u.jwt,
              json: { url: "https://hooks.slack.com/services/x" }
            })
          ).status
        ).toBe(201)
      }
    } finally {
      await prod.close()
      await allowed.close()
    }
  })
})

describe("delivery to a real receiver on loopback", () => {
  it("an alert is POSTed once, signed with the webhook's secret, in the generic shape", async () => {
    const receiver = await startReceiver([200])
    try {
      const u = await armed()
      const hook = await addHook(u.jwt, receiver.url)
      const attempts = await watchAttempts()
      await u.fire()
      await attempts.next((r) => r.status === "delivered")
      await attempts.close()
      const got = receiver.received[0]!
      const signatureHeader = String(got.headers["x-orw-signature"])
      const verified = verifySignature(hook.secret, signatureHeader, got.body, Math.floor(Date.now() / 1000))
      expect(verified).toBe(true)
      expect(verifySignature("whsec_wrong", signatureHeader, got.body, Math.floor(Date.now() / 1000))).toBe(false)
      const body = JSON.parse(got.body)
      expect(got.headers["x-orw-event"]).toBe("alert.threshold")
      expect(got.headers["x-orw-delivery"]).toBe(body.id)
      expect(body).toMatchObject({
        type: "alert.threshold",
        data: {
          kind: "threshold",
          budget_id: u.budgetId,
          key_id: u.keyId,
          threshold: 100,
          amount: 10,
          spent: 10,
          key_name: "prod key"
        }
      })
      expect(Object.keys(body).sort()).toEqual(["created_at", "data", "id", "type"])
      const alerts = (await api.request("GET", "/api/alerts", { bearer: u.jwt })).body.items
      const { key_name: _name, ...alertRow } = body.data
      expect(alerts).toContainEqual(alertRow)
      console.log(
        [
          "--- one alert delivered to a real receiver ---",
          `POST ${receiver.url}`,
          `X-Orw-Delivery: ${got.headers["x-orw-delivery"]}`,
          `X-Orw-Event: ${got.headers["x-orw-event"]}`,
          `X-Orw-Signature: ${signatureHeader}`,
          got.body,
          `signature verified with the webhook's secret: ${verified}`
        ].join("\n")
      )
      // Delivered: never again, whatever the worker runs.
      await server.run(Effect.flatMap(DeliveryWorker, (w) => w.runDue))
      const [delivery] = await deliveriesOf(u.jwt, hook.id)
      expect(delivery).toMatchObject({
        id: body.id,
        status: "delivered",
        attempts: 1,
        last_status_code: 200,
        last_error: null
      })
      expect(receiver.received).toHaveLength(1)
      const metrics = (await api.request("GET", "/metrics")).text
      expect(metrics).toMatch(/^orw_alerts_fired\{kind="threshold"\} [1-9]/m)
      expect(metrics).toMatch(/^orw_webhook_deliveries\{result="delivered"\} [1-9]/m)
      expect(metrics).toMatch(/^orw_webhook_outbox_lag \d+$/m)
    } finally {
      await receiver.close()
    }
  })

  it("a 5xx is retried with the same delivery id, the first retry within 5 s; a 2xx ends it", async () => {
    const receiver = await startReceiver([503, 200])
    try {
      const u = await armed()
      const hook = await addHook(u.jwt, receiver.url)
      const attempts = await watchAttempts()
      await u.fire()
      const failed = await attempts.next((r) => r.attempt === 1)
      expect(failed).toMatchObject({ status: "pending", statusCode: 503, error: "HTTP 503" })
      expect(failed.nextAttemptAt! - failed.at).toBeLessThanOrEqual(5_000)
      const [pending] = await deliveriesOf(u.jwt, hook.id)
      expect(pending).toMatchObject({ status: "pending", attempts: 1, last_status_code: 503, last_error: "HTTP 503" })
      await attempts.next((r) => r.attempt === 2)
      await attempts.close()
      const [first, second] = receiver.received
      expect(second!.headers["x-orw-delivery"]).toBe(first!.headers["x-orw-delivery"])
      expect(second!.body).toBe(first!.body)
      expect(second!.at - first!.at).toBeLessThan(5_000)
      const [done] = await deliveriesOf(u.jwt, hook.id)
      expect(done).toMatchObject({ status: "delivered", attempts: 2, last_status_code: 200, next_attempt_at: null })
      await server.run(Effect.flatMap(DeliveryWorker, (w) => w.runDue))
      expect(receiver.received).toHaveLength(2)
    } finally {
      await receiver.close()
    }
  })

  it("test deliveries in Slack's {text, blocks} and Discord's {content, embeds} shapes", async () => {
    const receiver = await startReceiver([200])
    try {
      const u = await api.user("fmt")
      const slack = await addHook(u.jwt, receiver.url, "slack")
      const discord = await addHook(u.jwt, receiver.url, "discord")
      const attempts = await watchAttempts()
      const queued = await api.request("POST", `/api/webhooks/${slack.id}/test`, { bearer: u.jwt })
      expect(queued.status).toBe(202)
      await attempts.next((r) => r.deliveryId === queued.body.delivery_id && r.status === "delivered")
      await api.request("POST", `/api/webhooks/${discord.id}/test`, { bearer: u.jwt })
      await receiver.waitFor(2)
      await attempts.close()
      const [s, d] = receiver.received.map((r) => ({ event: r.headers["x-orw-event"], body: JSON.parse(r.body) }))
      expect(s!.event).toBe("test")
      // Slack incoming webhooks: `text` (the fallback) and Block Kit `blocks`, each with a `type`.
      expect(typeof s!.body.text).toBe("string")
      expect(s!.body.blocks.every((b: { type: string }) => ["section", "context"].includes(b.type))).toBe(true)
      expect(s!.body.blocks[0].text).toEqual({ type: "mrkdwn", text: s!.body.text })
      // Discord execute webhook: `content` up to 2000 characters and at most 10 `embeds`.
      expect(typeof d!.body.content).toBe("string")
      expect(d!.body.content.length).toBeLessThanOrEqual(2000)
      expect(d!.body.embeds.length).toBeLessThanOrEqual(10)
      expect(d!.body.embeds[0]).toMatchObject({ title: "Test delivery", description: d!.body.content })
      const [row] = await deliveriesOf(u.jwt, slack.id)
      expect(row).toMatchObject({ id: queued.body.delivery_id, type: "test", alert_id: null, status: "delivered" })
    } finally {
      await receiver.close()
    }
  })
})
