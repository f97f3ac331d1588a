import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Option, Redacted } from "effect"
import { AppConfig } from "../../src/Config.js"
import type { OpenRouterError } from "../../src/OpenRouter/Client.js"
import {
  isRetryable,
  OpenRouterClient,
  OpenRouterDecodeError,
  OpenRouterForbidden,
  OpenRouterPaymentRequired,
  OpenRouterUnauthorized,
  retryAfter
} from "../../src/OpenRouter/Client.js"
import { Fault, hashKey, Simulator } from "../../src/OpenRouter/Simulator.js"

const NOW = new Date("2026-11-21T15:30:00.000Z")

/** A simulator on a free loopback port and a real client (fetch) pointed at it. */
const setup = (timeout: Duration.DurationInput = "5 seconds") =>
  Effect.gen(function* () {
    const { simulator, url } = yield* Simulator.scoped({ now: () => NOW })
    const client = yield* OpenRouterClient.pipe(
      Effect.provide(OpenRouterClient.Default),
      Effect.provide(AppConfig.layerTest({ openRouterApiUrl: url, openRouterTimeout: Duration.decode(timeout) }))
    )
    const inference = simulator.addKey({ name: "app", limit: 100, limitReset: "monthly", usage: { total: 20 } })
    const management = simulator.addKey({ name: "mgmt", isManagementKey: true })
    return { simulator, client, inference, management, secret: (key: string) => Redacted.make(key) }
  })

/** The failure of an effect that must fail. */
const failure = <A>(effect: Effect.Effect<A, OpenRouterError>) =>
  Effect.flip(effect).pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "test timed out" }))

/** Every rendering of an error a log or a response might show. */
const renderings = (error: OpenRouterError): ReadonlyArray<string> => [
  error.message,
  String(error),
  JSON.stringify(error),
  Cause.pretty(Cause.fail(error)),
  String(error.stack)
]

const expectNoKey = (error: OpenRouterError, key: string) => {
  for (const text of renderings(error)) {
    expect(text).not.toContain(key)
    expect(text).not.toContain(key.slice("sk-or-v1-".length))
  }
}

describe("OpenRouterClient against the simulator", () => {
  it.scoped("getKey decodes a 200", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      simulator.addUsage(inference, 1.25, { requests: 3, promptTokens: 100, completionTokens: 50 })
      const info = yield* client.getKey(secret(inference))
      expect(info.label).toBe(simulator.key(inference).label)
      expect(info.usage).toBe(21.25)
      expect(info.usage_daily).toBe(1.25)
      expect(info.limit).toBe(100)
      expect(info.limit_remaining).toBe(100 - 1.25)
      expect(info.limit_reset).toBe("monthly")
      expect(info.is_management_key).toBe(false)
      expect(info.expires_at).toBeNull()
      expect(simulator.requests.at(-1)?.keyHash).toBe(hashKey(inference))
    })
  )

  it.scoped("unknown and disabled keys are OpenRouterUnauthorized, not retryable", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      const unknown = yield* failure(client.getKey(secret(`sk-or-v1-${"ab".repeat(32)}`)))
      expect(unknown).toBeInstanceOf(OpenRouterUnauthorized)
      simulator.key(inference).disabled = true
      const disabled = yield* failure(client.getKey(secret(inference)))
      expect(disabled._tag).toBe("OpenRouterUnauthorized")
      expect(isRetryable(disabled)).toBe(false)
      expect(Option.isNone(retryAfter(disabled))).toBe(true)
    })
  )

  it.scoped("management endpoints answer 403 to an inference key", () =>
    Effect.gen(function* () {
      const { client, inference, secret } = yield* setup()
      const errors = [
        yield* failure(client.listKeys(secret(inference))),
        yield* failure(client.getActivity(secret(inference), hashKey(inference))),
        yield* failure(client.getCredits(secret(inference)))
      ]
      for (const error of errors) {
        expect(error).toBeInstanceOf(OpenRouterForbidden)
        expect(isRetryable(error)).toBe(false)
      }
      expect(errors.map((e) => e.endpoint)).toEqual(["/keys", "/activity", "/credits"])
    })
  )

  it.scoped("429 carries Retry-After as retryAfterMs", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      simulator.fail("/key", Fault.rateLimited(7)).fail("/key", Fault.rateLimited())
      const withHeader = yield* failure(client.getKey(secret(inference)))
      expect(withHeader._tag).toBe("OpenRouterRateLimited")
      expect(withHeader._tag === "OpenRouterRateLimited" && withHeader.retryAfterMs).toBe(7000)
      expect(retryAfter(withHeader)).toEqual(Option.some(Duration.seconds(7)))
      expect(isRetryable(withHeader)).toBe(true)
      const without = yield* failure(client.getKey(secret(inference)))
      expect(without._tag).toBe("OpenRouterRateLimited")
      expect(Option.isNone(retryAfter(without))).toBe(true)
      expect((yield* client.getKey(secret(inference))).label).toBe(simulator.key(inference).label)
      expect(simulator.count("/key")).toBe(3)
    })
  )

  it.scoped("503 and 500 are OpenRouterUnavailable; 402 is not retryable", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      simulator
        .fail("/key", Fault.unavailable(2))
        .fail("/key", Fault.serverError())
        .fail("/key", Fault.paymentRequired())
      const unavailable = yield* failure(client.getKey(secret(inference)))
      expect(unavailable._tag === "OpenRouterUnavailable" && [unavailable.status, unavailable.retryAfterMs]).toEqual([
        503, 2000
      ])
      expect(isRetryable(unavailable)).toBe(true)
      const serverError = yield* failure(client.getKey(secret(inference)))
      expect(serverError._tag === "OpenRouterUnavailable" && serverError.status).toBe(500)
      expect(Option.isNone(retryAfter(serverError))).toBe(true)
      const payment = yield* failure(client.getKey(secret(inference)))
      expect(payment).toBeInstanceOf(OpenRouterPaymentRequired)
      expect(isRetryable(payment)).toBe(false)
    })
  )

  it.scoped("truncated, malformed and incomplete bodies are OpenRouterDecodeError", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      simulator
        .fail("/key", Fault.truncated())
        .fail("/key", Fault.malformed())
        .fail("/key", Fault.omitField("usage"))
        .fail("/key", Fault.addFields({ limit: "lots" }))
      for (const expected of ["not valid JSON", "not valid JSON", "usage", "limit"]) {
        const error = yield* failure(client.getKey(secret(inference)))
        expect(error).toBeInstanceOf(OpenRouterDecodeError)
        expect(error.message).toContain(expected)
        expect(isRetryable(error)).toBe(true)
      }
    })
  )

  it.scoped("unknown extra fields are tolerated, expires_at may be absent or set", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      simulator.fail("/key", Fault.addFields({ brand_new_field: { nested: [1, 2] }, another: "x" }))
      const info = yield* client.getKey(secret(inference))
      expect(info).not.toHaveProperty("brand_new_field")
      expect(info.label).toBe(simulator.key(inference).label)
      simulator.key(inference).expires_at = "2027-01-01T00:00:00.000Z"
      expect((yield* client.getKey(secret(inference))).expires_at).toBe("2027-01-01T00:00:00.000Z")
    })
  )

  it.scoped("a connection reset is an OpenRouterTransportError", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      simulator.fail("/key", Fault.reset())
      const error = yield* failure(client.getKey(secret(inference)))
      expect(error._tag === "OpenRouterTransportError" && error.reason).toBe("Transport")
      expect(isRetryable(error)).toBe(true)
      expect((yield* client.getKey(secret(inference))).label).toBe(simulator.key(inference).label)
    })
  )

  it.scopedLive("latency beyond the timeout is an OpenRouterTransportError (Timeout)", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup("200 millis")
      simulator.fail("/key", Fault.latency(2_000))
      const started = Date.now()
      const error = yield* failure(client.getKey(secret(inference)))
      expect(error._tag === "OpenRouterTransportError" && error.reason).toBe("Timeout")
      expect(Date.now() - started).toBeLessThan(1_500)
      simulator.fail("/key", Fault.latency(50))
      expect((yield* client.getKey(secret(inference))).label).toBe(simulator.key(inference).label)
    })
  )

  it.scoped("listAllKeys pages by 100 until a short page", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, management, secret } = yield* setup()
      for (let i = 0; i < 149; i++) simulator.addKey({ name: `k${i}` })
      simulator.addKey({ name: "off", disabled: true })
      const first = yield* client.listKeys(secret(management))
      expect(first).toHaveLength(100)
      const all = yield* client.listAllKeys(secret(management), { includeDisabled: true })
      expect(all).toHaveLength(151)
      expect(new Set(all.map((k) => k.hash)).size).toBe(151)
      expect(simulator.requests.filter((r) => r.endpoint === "/keys").map((r) => r.query.offset)).toEqual([
        undefined,
        undefined,
        "100"
      ])
      expect((yield* client.listAllKeys(secret(management))).map((k) => k.name)).not.toContain("off")
      expect(all.find((k) => k.name === "app")?.hash).toBe(hashKey(inference))
    })
  )

  it.scoped("getActivity and getCredits decode", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, management, secret } = yield* setup()
      simulator.addUsage(inference, 0.015, {
        date: "2026-11-20",
        model: "openai/gpt-4.1",
        requests: 5,
        promptTokens: 50,
        completionTokens: 100,
        reasoningTokens: 25
      })
      const rows = yield* client.getActivity(secret(management), hashKey(inference), "2026-11-20")
      expect(rows).toHaveLength(1)
      expect(rows[0]).toMatchObject({ date: "2026-11-20", usage: 0.015, requests: 5, completion_tokens: 125 })
      const credits = yield* client.getCredits(secret(management))
      expect(credits).toEqual({ total_credits: 100, total_usage: 20.015 })
    })
  )

  it.scoped("no error ever shows the key, even when OpenRouter echoes it", () =>
    Effect.gen(function* () {
      const { simulator, client, inference, secret } = yield* setup()
      const echo = (status: number) => Fault.status(status, `bad key ${inference} (${inference.toUpperCase()})`)
      const faults = [401, 402, 403, 429, 500, 503].map(echo)
      faults.push(Fault.truncated(), Fault.malformed(), Fault.reset(), Fault.omitField("label"))
      faults.push(Fault.addFields({ usage: `not a number: ${inference}` }))
      for (const fault of faults) simulator.fail("/key", fault)
      const tags = new Set<string>()
      for (const _ of faults) {
        const exit = yield* Effect.exit(client.getKey(secret(inference)))
        expect(Exit.isFailure(exit)).toBe(true)
        const error = yield* failure(Effect.suspend(() => exit))
        tags.add(error._tag)
        expectNoKey(error, inference)
        expect(Cause.pretty(Exit.isFailure(exit) ? exit.cause : Cause.empty)).not.toContain(inference.slice(9))
      }
      expect(tags.size).toBe(7)
    })
  )
})
