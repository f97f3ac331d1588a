import { addEqualityTesters, describe, expect, it } from "@effect/vitest"
import { DateTime, Schema } from "effect"
import {
  KeyActiveSet,
  KeyAdded,
  KeyDeleted,
  KeyLimitSet,
  KeyMarkedInvalid,
  KeyRenamed,
  KeyStatusRecorded,
  KeySyncFailed
} from "../src/ApiKey/Events.js"
import { TokenIssued, TokenRevoked } from "../src/ApiToken/Events.js"
import {
  BudgetChanged,
  BudgetCreated,
  BudgetDeleted,
  BudgetForecastExceeded,
  BudgetSlotClaimed,
  BudgetSlotReleased,
  BudgetThresholdCrossed,
  KeySpendSpiked
} from "../src/Budget/Events.js"
import {
  AlreadyExists,
  DomainError,
  EmailAlreadyRegistered,
  InvalidEmail,
  InvalidKeyFormat,
  InvalidName,
  InvalidUsage,
  KeyForbidden,
  KeyInactive,
  KeyLimitReached,
  KeyNotFound,
  statusOf,
  TokenForbidden,
  TokenNotFound,
  UserNotFound
} from "../src/Errors.js"
import type { DomainEventType } from "../src/Events.js"
import { DomainEvent, Streams, streamOf } from "../src/Events.js"
import { AlertId, ApiKeyId, ApiTokenId, BudgetId, UserId, UtcDate, WebhookId } from "../src/Ids.js"
import { Micros } from "../src/Money.js"
import { UsageDiscrepancyFound } from "../src/Reconciliation/Events.js"
import { UsageRecorded } from "../src/Usage/Events.js"
import {
  EmailClaimed,
  EmailReleased,
  KeyAttached,
  KeyDetached,
  PasswordChanged,
  UserDeleted,
  UserRegistered
} from "../src/User/Events.js"
import { WebhookAdded, WebhookDeleted } from "../src/Webhook/Events.js"

addEqualityTesters()

const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
const userId = UserId.make("u1")
const keyId = ApiKeyId.make("k1")
const tokenId = ApiTokenId.make("t1")
const email = "alice@example.com"
const budgetId = BudgetId.make("b1")
const webhookId = WebhookId.make("w1")

/** One sample of every event type, with the stream id it must land in, spelled out. */
const samples: { readonly [T in DomainEventType]: readonly [Extract<DomainEvent, { _tag: T }>, string] } = {
  UserRegistered: [new UserRegistered({ userId, email, passwordHash: "h", at }), "user-u1"],
  PasswordChanged: [new PasswordChanged({ userId, passwordHash: "h2", at }), "user-u1"],
  UserDeleted: [new UserDeleted({ userId, email, at }), "user-u1"],
  KeyAttached: [new KeyAttached({ userId, keyId, at }), "user-u1"],
  KeyDetached: [new KeyDetached({ userId, keyId, at }), "user-u1"],
  EmailClaimed: [new EmailClaimed({ email, userId, at }), "email-alice@example.com"],
  EmailReleased: [new EmailReleased({ email, userId, at }), "email-alice@example.com"],
  KeyAdded: [
    new KeyAdded({ keyId, userId, name: "Main", label: "sk-or-v1-abc...xyz", keyHash: "kh", ciphertext: "ct", at }),
    "key-k1"
  ],
  KeyRenamed: [new KeyRenamed({ keyId, userId, name: "Other", at }), "key-k1"],
  KeyActiveSet: [new KeyActiveSet({ keyId, userId, isActive: false, at }), "key-k1"],
  KeyDeleted: [new KeyDeleted({ keyId, userId, at }), "key-k1"],
  KeyStatusRecorded: [
    new KeyStatusRecorded({
      keyId,
      userId,
      status: {
        label: "sk-or-v1-abc...xyz",
        limit: Micros.make(10_000_000),
        limitRemaining: Micros.make(-250_000),
        limitReset: null,
        usage: Micros.make(10_250_000),
        usageDaily: Micros.make(1),
        usageWeekly: Micros.make(2),
        usageMonthly: Micros.make(3),
        isManagementKey: true,
        expiresAt: "2027-01-01T00:00:00Z"
      },
      at
    }),
    "key-k1"
  ],
  KeyMarkedInvalid: [new KeyMarkedInvalid({ keyId, userId, at }), "key-k1"],
  KeySyncFailed: [new KeySyncFailed({ keyId, userId, error: "HTTP 503", at }), "key-k1"],
  KeyLimitSet: [new KeyLimitSet({ keyId, userId, limit: null, limitReset: "daily", at }), "key-k1"],
  TokenIssued: [new TokenIssued({ tokenId, userId, name: "Grafana", tokenHash: "th", at }), "token-t1"],
  TokenRevoked: [new TokenRevoked({ tokenId, userId, at }), "token-t1"],
  UsageDiscrepancyFound: [
    new UsageDiscrepancyFound({
      keyId,
      userId,
      scope: "day",
      date: UtcDate.make("2026-11-20"),
      model: "openai/gpt-4.1",
      recorded: Micros.make(15_000),
      upstream: Micros.make(17_500),
      at
    }),
    "discrepancies-k1"
  ],
  UsageRecorded: [
    new UsageRecorded({
      keyId,
      userId,
      date: UtcDate.make("2026-11-28"),
      model: "openai/gpt-5",
      totals: { requests: 3, tokensInput: 10, tokensOutput: 20, cost: Micros.make(1234), byokCost: Micros.make(0) },
      at
    }),
    "usage-k1"
  ],
  BudgetCreated: [
    new BudgetCreated({
      budgetId,
      userId,
      scope: "key",
      keyId,
      amount: Micros.make(10_000_000),
      period: "weekly",
      thresholds: [50, 80, 100],
      at
    }),
    "budget-b1"
  ],
  BudgetChanged: [
    new BudgetChanged({
      budgetId,
      userId,
      amount: Micros.make(20_000_000),
      thresholds: [50, 100],
      periodStart: UtcDate.make("2026-11-23"),
      rearmed: [80],
      forecastRearmed: false,
      at
    }),
    "budget-b1"
  ],
  BudgetDeleted: [new BudgetDeleted({ budgetId, userId, at }), "budget-b1"],
  BudgetThresholdCrossed: [
    new BudgetThresholdCrossed({
      alertId: AlertId.make("a1"),
      budgetId,
      userId,
      keyId,
      threshold: 80,
      amount: Micros.make(10_000_000),
      spent: Micros.make(8_000_000),
      period: "weekly",
      periodStart: UtcDate.make("2026-11-23"),
      at
    }),
    "budget-b1"
  ],
  BudgetForecastExceeded: [
    new BudgetForecastExceeded({
      alertId: AlertId.make("a2"),
      budgetId,
      userId,
      keyId: null,
      amount: Micros.make(10_000_000),
      spent: Micros.make(4_000_000),
      projected: Micros.make(12_000_000),
      period: "monthly",
      periodStart: UtcDate.make("2026-11-01"),
      at
    }),
    "budget-b1"
  ],
  BudgetSlotClaimed: [
    new BudgetSlotClaimed({ slot: "u1:key:k1:weekly", budgetId, userId, at }),
    "budget-slot-u1:key:k1:weekly"
  ],
  BudgetSlotReleased: [
    new BudgetSlotReleased({ slot: "u1:key:k1:weekly", budgetId, userId, at }),
    "budget-slot-u1:key:k1:weekly"
  ],
  KeySpendSpiked: [
    new KeySpendSpiked({
      alertId: AlertId.make("a3"),
      keyId,
      userId,
      date: UtcDate.make("2026-11-29"),
      spent: Micros.make(5_000_000),
      average: Micros.make(1_000_000),
      factor: 3,
      at
    }),
    "spike-k1"
  ],
  WebhookAdded: [
    new WebhookAdded({ webhookId, userId, url: "https://hooks.example.com/x", format: "slack", ciphertext: "ct", at }),
    "webhook-w1"
  ],
  WebhookDeleted: [new WebhookDeleted({ webhookId, userId, at }), "webhook-w1"]
}
const cases = Object.entries(samples) as Array<[DomainEventType, readonly [DomainEvent, string]]>

const encode = Schema.encodeSync(DomainEvent)
const decode = Schema.decodeUnknownSync(DomainEvent)

describe("Streams", () => {
  it("names one stream per aggregate instance", () => {
    expect(Streams.user("u1")).toBe("user-u1")
    expect(Streams.key("k1")).toBe("key-k1")
    expect(Streams.token("t1")).toBe("token-t1")
    expect(Streams.usage("k1")).toBe("usage-k1")
  })

  it("names the email stream after the normalized address", () => {
    expect(Streams.email("  Alice@Example.COM ")).toBe("email-alice@example.com")
    expect(Streams.email("Alice@Example.COM")).toBe(Streams.email("alice@example.com"))
  })
})

describe("streamOf", () => {
  it("covers 29 event types", () => expect(cases).toHaveLength(29))

  it.each(cases)("puts %s in its stream", (type, [event, stream]) => {
    expect(event._tag).toBe(type)
    expect(streamOf(event)).toBe(stream)
  })

  it("puts a key's events and its usage in different streams", () =>
    expect(streamOf(samples.KeyAdded[0])).not.toBe(streamOf(samples.UsageRecorded[0])))
})

describe("DomainEvent schema", () => {
  it.each(cases)("round-trips %s through encode and decode", (_, [event]) => {
    const encoded = encode(event)
    const decoded = decode(JSON.parse(JSON.stringify(encoded)))
    expect(decoded).toBeInstanceOf(event.constructor)
    expect(decoded).toEqual(event)
    expect(encode(decoded)).toEqual(encoded)
  })

  it("encodes times as ISO 8601 UTC strings", () =>
    expect(encode(samples.UserRegistered[0])).toMatchObject({ _tag: "UserRegistered", at: "2026-11-29T10:00:00.000Z" }))

  it("rejects an unknown event type", () => expect(() => decode({ _tag: "KeyStolen", keyId: "k1" })).toThrow())

  it("rejects negative usage totals", () => {
    const encoded = encode(samples.UsageRecorded[0]) as { readonly totals: object }
    expect(() => decode({ ...encoded, totals: { ...encoded.totals, cost: -1 } })).toThrow()
  })
})

describe("domain errors", () => {
  it.each([
    [new EmailAlreadyRegistered(), 400, "Email already registered"],
    [new InvalidEmail(), 400, "Invalid email address"],
    [new UserNotFound(), 404, "User not found"],
    [new InvalidKeyFormat(), 400, "Invalid API key format"],
    [new KeyLimitReached({ max: 5 }), 400, "Maximum number of API keys reached (5)"],
    [new InvalidName(), 400, "Name must be 1 to 100 characters"],
    [new KeyNotFound(), 404, "API key not found"],
    [new KeyForbidden(), 403, "Not allowed to access this API key"],
    [new KeyInactive(), 400, "API key is inactive: activate it to sync"],
    [new TokenNotFound(), 404, "API token not found"],
    [new TokenForbidden(), 403, "Not allowed to access this API token"],
    [new InvalidUsage({ reason: "cost must not be negative" }), 400, "Invalid usage: cost must not be negative"],
    [new AlreadyExists(), 409, "Resource already exists"]
  ])("%s carries status %i and its message", (error, status, message) => {
    expect(statusOf(error)).toBe(status)
    expect(error.message).toBe(message)
    expect(Schema.is(DomainError)(error)).toBe(true)
  })

  it("round-trips through the DomainError schema with its fields", () => {
    const decoded = Schema.decodeUnknownSync(DomainError)(
      Schema.encodeSync(DomainError)(new KeyLimitReached({ max: 3 }))
    )
    expect(decoded).toBeInstanceOf(KeyLimitReached)
    expect(decoded.message).toBe("Maximum number of API keys reached (3)")
    expect(statusOf(decoded)).toBe(400)
  })
})
