import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { Fault, realisticScenario, Simulator, SimulatorServer } from "../../src/OpenRouter/Simulator.js"

const NOW = new Date("2026-11-21T15:30:00.000Z") // a Saturday

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

const get = (url: string, key?: string) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(url, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

const json = (answer: Answer): { data: unknown; error?: { code: number; message: string } } => JSON.parse(answer.text)

const rows = (answer: Answer): Array<Record<string, unknown>> => {
  const data = json(answer).data
  if (!Array.isArray(data)) throw new Error(`expected a list, got ${answer.text}`)
  return data
}

/** A simulator whose clock the test moves. */
const setup = Effect.gen(function* () {
  const clock = { now: NOW }
  const { simulator, url } = yield* Simulator.scoped({ now: () => clock.now })
  const management = simulator.addKey({ isManagementKey: true, name: "mgmt" })
  return { simulator, url, clock, management }
})

describe("Simulator", () => {
  it.scoped("keys look like OpenRouter's; hash is SHA-256 of the key, label is masked", () =>
    Effect.gen(function* () {
      const { simulator, url, management } = yield* setup
      const key = simulator.addKey({ name: "app" })
      expect(key).toMatch(/^sk-or-v1-[0-9a-f]{64}$/)
      const hex = key.slice(9)
      const listed = rows(yield* get(`${url}/keys`, management))
      expect(listed).toHaveLength(1)
      expect(listed[0]?.hash).toBe(createHash("sha256").update(key, "utf8").digest("hex"))
      expect(listed[0]?.label).toBe(`sk-or-v1-${hex.slice(0, 3)}...${hex.slice(-3)}`)
      const own = json(yield* get(`${url}/key`, key)).data
      expect(own).toMatchObject({ label: `sk-or-v1-${hex.slice(0, 3)}...${hex.slice(-3)}`, is_management_key: false })
      expect(JSON.stringify(own)).not.toContain(hex)
    })
  )

  it.scoped("usage windows follow the UTC day, Monday week and month, without float drift", () =>
    Effect.gen(function* () {
      const { simulator, url } = yield* setup
      const key = simulator.addKey({ limit: 40, limitReset: "monthly", usage: { total: 0.3 } })
      for (let i = 0; i < 10; i++) simulator.addUsage(key, 0.1)
      simulator.addUsage(key, 2, { date: "2026-11-16" })
      simulator.addUsage(key, 4, { date: "2026-11-15" })
      simulator.addUsage(key, 8, { date: "2026-11-01" })
      simulator.addUsage(key, 16, { date: "2026-10-31" })
      expect(json(yield* get(`${url}/key`, key)).data).toMatchObject({
        usage: 31.3,
        usage_daily: 1,
        usage_weekly: 3,
        usage_monthly: 15,
        limit: 40,
        limit_remaining: 25
      })
    })
  )

  it.scoped("activity covers the last 30 completed UTC days, never today, by the injected clock", () =>
    Effect.gen(function* () {
      const { simulator, url, clock, management } = yield* setup
      const key = simulator.addKey()
      const hash = createHash("sha256").update(key).digest("hex")
      for (let d = 0; d <= 40; d++) {
        simulator.addUsage(key, 1, { date: new Date(NOW.getTime() - d * 86_400_000).toISOString().slice(0, 10) })
      }
      const dates = (answer: Answer) => [...new Set(rows(answer).map((r) => r.date))].sort()
      const window = dates(yield* get(`${url}/activity?api_key_hash=${hash}`, management))
      expect(window).toHaveLength(30)
      expect(window[0]).toBe("2026-10-22")
      expect(window.at(-1)).toBe("2026-11-20")
      clock.now = new Date("2026-11-22T00:00:01.000Z")
      const nextDay = dates(yield* get(`${url}/activity?api_key_hash=${hash}`, management))
      expect([nextDay[0], nextDay.at(-1), nextDay.length]).toEqual(["2026-10-23", "2026-11-21", 30])
      expect(rows(yield* get(`${url}/activity?api_key_hash=${hash}&date=2026-11-21`, management))).toHaveLength(1)
      expect((yield* get(`${url}/activity?api_key_hash=${hash}&date=2026-11-22`, management)).status).toBe(400)
      expect(rows(yield* get(`${url}/activity?api_key_hash=${"0".repeat(64)}`, management))).toEqual([])
    })
  )

  it.scoped("auth: 401 for missing, unknown, disabled or expired keys; 403 for inference keys on management", () =>
    Effect.gen(function* () {
      const { simulator, url } = yield* setup
      const key = simulator.addKey()
      const expired = simulator.addKey({ expiresAt: "2026-11-21T15:00:00.000Z" })
      expect((yield* get(`${url}/key`)).status).toBe(401)
      expect((yield* get(`${url}/key`, `sk-or-v1-${"0".repeat(64)}`)).status).toBe(401)
      expect((yield* get(`${url}/key`, expired)).status).toBe(401)
      for (const path of ["/keys", "/activity", "/credits"]) {
        const answer = yield* get(`${url}${path}`, key)
        expect(answer.status).toBe(403)
        expect(json(answer).error?.code).toBe(403)
      }
      simulator.key(key).disabled = true
      const disabled = yield* get(`${url}/key`, key)
      expect([disabled.status, json(disabled).error?.code]).toEqual([401, 401])
      const models = yield* get(`${url}/models`)
      expect(models.status).toBe(200)
      expect(rows(models).length).toBeGreaterThanOrEqual(4)
    })
  )

  it.scoped("faults hit the next N calls of their endpoint only, and the log counts every call", () =>
    Effect.gen(function* () {
      const { simulator, url, management } = yield* setup
      simulator.fail("/key", Fault.rateLimited(3), 2).fail("/credits", Fault.unavailable(9))
      const limited = yield* get(`${url}/key`, management)
      expect([limited.status, limited.headers.get("retry-after"), json(limited).error?.code]).toEqual([429, "3", 429])
      expect((yield* get(`${url}/credits`, management)).status).toBe(503)
      expect((yield* get(`${url}/key`, management)).status).toBe(429)
      expect((yield* get(`${url}/key`, management)).status).toBe(200)
      expect((yield* get(`${url}/credits`, management)).status).toBe(200)
      expect([simulator.count("/key"), simulator.count("/credits"), simulator.count()]).toEqual([3, 2, 5])
      expect(simulator.requests.map((r) => r.fault)).toEqual(["Status", "Status", "Status", null, null])
      expect(simulator.requests[0]?.keyHash).toBe(simulator.key(management).hash)
    })
  )

  it.scoped("truncated and malformed bodies are complete HTTP answers that are not JSON; reset drops the socket", () =>
    Effect.gen(function* () {
      const { simulator, url, management } = yield* setup
      simulator.fail("/key", Fault.truncated()).fail("/key", Fault.malformed()).fail("/key", Fault.reset())
      for (const _ of [1, 2]) {
        const answer = yield* get(`${url}/key`, management)
        expect(answer.status).toBe(200)
        expect(Number(answer.headers.get("content-length"))).toBe(Buffer.byteLength(answer.text))
        expect(() => JSON.parse(answer.text)).toThrow()
      }
      const reset = yield* Effect.exit(Effect.tryPromise(() => fetch(`${url}/key`)))
      expect(Exit.isFailure(reset)).toBe(true)
    })
  )

  it.effect("as a layer: serves while the scope lives, then the port is closed", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(Simulator.layer(), scope)
      const { simulator, url } = Context.get(context, SimulatorServer)
      simulator.fail("/key", Fault.latency(60_000))
      const pending = yield* Effect.fork(Effect.exit(Effect.tryPromise(() => fetch(`${url}/key`))))
      expect((yield* get(`${url}/models`)).status).toBe(200)
      yield* Scope.close(scope, Exit.void)
      expect(Exit.isFailure(yield* Effect.exit(Effect.tryPromise(() => fetch(`${url}/models`))))).toBe(true)
      expect(Exit.isFailure(yield* pending.await.pipe(Effect.flatten))).toBe(true)
    })
  )

  it("realisticScenario is deterministic per seed, with several models and providers", () => {
    const a = realisticScenario({ days: 90, seed: 7, now: NOW })
    const b = realisticScenario({ days: 90, seed: 7, now: NOW })
    const c = realisticScenario({ days: 90, seed: 8, now: NOW })
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    expect(a.keys.map((k) => k.key)).not.toEqual(c.keys.map((k) => k.key))
    const activity = a.keys.flatMap((k) => k.activity)
    expect(new Set(activity.map((r) => r.model)).size).toBeGreaterThanOrEqual(4)
    expect(new Set(activity.map((r) => r.provider_name)).size).toBeGreaterThanOrEqual(3)
    expect(new Set(activity.map((r) => r.date)).size).toBeGreaterThanOrEqual(85)
    expect(a.keys.filter((k) => k.is_management_key)).toHaveLength(1)
    expect(activity.every((r) => Number.isInteger(r.usage) && r.completion_tokens >= r.reasoning_tokens)).toBe(true)
  })
})
