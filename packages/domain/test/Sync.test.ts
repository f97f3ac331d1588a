import { describe, expect, it } from "@effect/vitest"
import { DateTime, Option } from "effect"
import { evolveApiKey, initialApiKeyState } from "../src/ApiKey/Decider.js"
import type { KeyStatus } from "../src/ApiKey/Events.js"
import { KeyAdded, KeyDeleted, KeyStatusRecorded, KeySyncFailed } from "../src/ApiKey/Events.js"
import { InvalidUsage, KeyNotFound } from "../src/Errors.js"
import { Streams, streamOf } from "../src/Events.js"
import { ApiKeyId, UserId, UtcDate } from "../src/Ids.js"
import { Micros } from "../src/Money.js"
import { sumActivity } from "../src/Sync/Activity.js"
import { type ActivityTotals, RecordActivity, RecordKeySnapshot } from "../src/Sync/Commands.js"
import { decideSync, usageDecrease } from "../src/Sync/Decider.js"
import { evolveUsage, initialUsageState } from "../src/Usage/Decider.js"
import { UsageRecorded, type UsageTotals } from "../src/Usage/Events.js"
import { spec, stream } from "./support/DeciderSpec.js"
import { keyStatus } from "./support/KeyStatus.js"

const sync = spec(
  { key: stream(initialApiKeyState, evolveApiKey), usage: stream(initialUsageState, evolveUsage) },
  decideSync
)

const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
const later = DateTime.unsafeMake("2026-11-29T11:00:00Z")
const alice = UserId.make("u-alice")
const k1 = ApiKeyId.make("k1")
const today = UtcDate.make("2026-11-29")
const yesterday = UtcDate.make("2026-11-28")
const gpt = "openai/gpt-4.1"
const claude = "anthropic/claude-sonnet-4.5"

const added = new KeyAdded({
  keyId: k1,
  userId: alice,
  name: "Main",
  label: "sk-or-v1-012...def",
  keyHash: "kh",
  ciphertext: "ct",
  at
})
const deleted = new KeyDeleted({ keyId: k1, userId: alice, at })
const syncFailed = new KeySyncFailed({ keyId: k1, userId: alice, error: "HTTP 503", at })

const status = keyStatus
const statusRecorded = (s: KeyStatus, when = at) =>
  new KeyStatusRecorded({ keyId: k1, userId: alice, status: s, at: when })
const snapshot = (s: KeyStatus) => new RecordKeySnapshot({ keyId: k1, status: s, at: later, day: today })

const totals = (fields: Partial<UsageTotals> = {}): UsageTotals => ({
  requests: 0,
  tokensInput: 0,
  tokensOutput: 0,
  cost: Micros.make(0),
  byokCost: Micros.make(0),
  ...fields
})
const usageRecorded = (date: UtcDate, model: string, t: UsageTotals, when = later) =>
  new UsageRecorded({ keyId: k1, userId: alice, date, model, totals: t, at: when })
const unattributed = (cost: number, when = later) =>
  usageRecorded(today, "unattributed", totals({ cost: Micros.make(cost) }), when)

const row = (date: UtcDate, model: string, fields: Partial<ActivityTotals> = {}): ActivityTotals => ({
  date,
  model,
  requests: 4,
  tokensInput: 100,
  tokensOutput: 250,
  cost: 30_000,
  byokCost: 0,
  ...fields
})
const asTotals = ({ requests, tokensInput, tokensOutput, cost, byokCost }: ActivityTotals): UsageTotals => ({
  requests,
  tokensInput,
  tokensOutput,
  cost: Micros.make(cost),
  byokCost: Micros.make(byokCost)
})
const activity = (rows: ReadonlyArray<ActivityTotals>) => new RecordActivity({ keyId: k1, totals: rows, at: later })
const recordedRow = (r: ActivityTotals, when = later) => usageRecorded(r.date, r.model, asTotals(r), when)

describe("Sync decider", () => {
  describe("RecordKeySnapshot", () => {
    describe("given a key with no status yet", () => {
      it("records the first status as the baseline: no usage, whatever the all-time figure", () =>
        sync
          .given({ key: [added] })
          .when(snapshot(status({ usage: Micros.make(99_000_000) })))
          .then([statusRecorded(status({ usage: Micros.make(99_000_000) }), later)]))

      it("exposes no decrease for a baseline", () => {
        const context = sync.given({ key: [added] }).state()
        expect(usageDecrease(snapshot(status()), context)).toEqual(Option.none())
      })
    })

    describe("given a recorded status", () => {
      const withStatus = { key: [added, statusRecorded(status())] }

      it("decides nothing for the same status: a sync that learns nothing appends nothing", () =>
        sync.given(withStatus).when(snapshot(status())).thenNothing())

      it("records growth of all-time usage as unattributed usage of the snapshot's day, with the status", () => {
        const grown = status({ usage: Micros.make(3_750_000), usageDaily: Micros.make(1_350_000) })
        const events = sync
          .given(withStatus)
          .when(snapshot(grown))
          .then([statusRecorded(grown, later), unattributed(1_250_000)])
        // One decision over two streams: the dispatcher appends both in one transaction.
        expect(events.map((e) => streamOf(e))).toEqual([Streams.key(k1), Streams.usage(k1)])
      })

      it("adds the growth to the day's unattributed usage already recorded", () =>
        sync
          .given({ ...withStatus, usage: [unattributed(400_000, at)] })
          .when(snapshot(status({ usage: Micros.make(2_600_000) })))
          .then([statusRecorded(status({ usage: Micros.make(2_600_000) }), later), unattributed(500_000)]))

      it.each<[string, Partial<KeyStatus>]>([
        ["a new limit", { limit: Micros.make(20_000_000) }],
        ["no limit any more", { limit: null, limitRemaining: null }],
        ["a management key", { isManagementKey: true }],
        ["an expiry", { expiresAt: "2027-01-01T00:00:00Z" }],
        ["new daily figures only", { usageDaily: Micros.make(0) }]
      ])("records a status change with %s only, and no usage", (_, change) => {
        sync
          .given(withStatus)
          .when(snapshot(status(change)))
          .then([statusRecorded(status(change), later)])
      })

      it("records a decrease of all-time usage as the new status only: no usage, never negative", () =>
        sync
          .given(withStatus)
          .when(snapshot(status({ usage: Micros.make(1_000_000) })))
          .then([statusRecorded(status({ usage: Micros.make(1_000_000) }), later)]))

      it("exposes a decrease for the caller to log, and no decrease otherwise", () => {
        const context = sync.given(withStatus).state()
        expect(usageDecrease(snapshot(status({ usage: Micros.make(1_000_000) })), context)).toEqual(
          Option.some({ previous: 2_500_000, current: 1_000_000 })
        )
        expect(usageDecrease(snapshot(status({ usage: Micros.make(3_000_000) })), context)).toEqual(Option.none())
        expect(usageDecrease(snapshot(status()), context)).toEqual(Option.none())
      })

      it("rejects growth that would push the day's total past the exact range with InvalidUsage", () =>
        sync
          .given({
            ...withStatus,
            usage: [unattributed(Number.MAX_SAFE_INTEGER - 10, at)]
          })
          .when(snapshot(status({ usage: Micros.make(2_500_100) })))
          .thenFails(InvalidUsage))
    })

    describe("given a sync failure after the last status", () => {
      it("records the same status again, because it ends the failure streak", () =>
        sync
          .given({ key: [added, statusRecorded(status()), syncFailed] })
          .when(snapshot(status()))
          .then([statusRecorded(status(), later)]))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () => sync.given().when(snapshot(status())).thenFails(KeyNotFound))

      it("rejects a deleted key with KeyNotFound", () =>
        sync
          .given({ key: [added, statusRecorded(status()), deleted] })
          .when(snapshot(status({ usage: Micros.make(9_000_000) })))
          .thenFails(KeyNotFound))
    })
  })

  describe("RecordActivity", () => {
    describe("given no recorded usage", () => {
      it("records several (date, model) rows of one command as absolute totals, in order", () => {
        const rows = [row(yesterday, claude), row(yesterday, gpt, { requests: 9, cost: 120_000 }), row(today, gpt)]
        sync
          .given({ key: [added] })
          .when(activity(rows))
          .then(rows.map((r) => recordedRow(r)))
      })

      it("decides nothing for no rows, or for all-zero rows", () => {
        sync
          .given({ key: [added] })
          .when(activity([]))
          .thenNothing()
        sync
          .given({ key: [added] })
          .when(activity([row(today, gpt, { requests: 0, tokensInput: 0, tokensOutput: 0, cost: 0 })]))
          .thenNothing()
      })
    })

    describe("given recorded totals", () => {
      const recorded = [recordedRow(row(yesterday, gpt), at), recordedRow(row(yesterday, claude), at)]

      it("skips unchanged rows and records the changed ones only", () =>
        sync
          .given({ key: [added], usage: recorded })
          .when(activity([row(yesterday, gpt), row(yesterday, claude, { requests: 5 }), row(today, gpt)]))
          .then([recordedRow(row(yesterday, claude, { requests: 5 })), recordedRow(row(today, gpt))]))

      it("records a revision downwards as the new absolute totals", () =>
        sync
          .given({ key: [added], usage: recorded })
          .when(activity([row(yesterday, gpt, { cost: 10_000 })]))
          .then([recordedRow(row(yesterday, gpt, { cost: 10_000 }))]))

      it("decides a row repeated within the command on the totals the row before left", () =>
        sync
          .given({ key: [added], usage: recorded })
          .when(activity([row(today, gpt), row(today, gpt)]))
          .then([recordedRow(row(today, gpt))]))
    })

    describe("given figures that break the usage rules", () => {
      it("rejects the whole command with InvalidUsage: no row of it is recorded", () =>
        sync
          .given({ key: [added] })
          .when(activity([row(yesterday, gpt), row(today, gpt, { requests: -1 })]))
          .thenFails(InvalidUsage))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () =>
        sync
          .given()
          .when(activity([row(today, gpt)]))
          .thenFails(KeyNotFound))

      it("rejects a deleted key with KeyNotFound, even without rows", () =>
        sync
          .given({ key: [added, deleted] })
          .when(activity([]))
          .thenFails(KeyNotFound))
    })
  })
})

describe("sumActivity", () => {
  const line = (fields: Partial<Parameters<typeof sumActivity>[0][number]> = {}) => ({
    date: "2026-11-28",
    model: gpt,
    requests: 1,
    prompt_tokens: 10,
    completion_tokens: 20,
    usage: 0.1,
    byok_usage_inference: 0,
    ...fields
  })

  it("sums the provider rows of each (date, model) exactly, in micro-dollars, ordered by date then model", () =>
    expect(
      sumActivity([
        line({ date: "2026-11-28T00:00:00Z", usage: 0.2, byok_usage_inference: 0.000001 }),
        line({ model: claude, requests: 3 }),
        line({ date: "2026-11-27" }),
        line()
      ])
    ).toEqual([
      { date: "2026-11-27", model: gpt, requests: 1, tokensInput: 10, tokensOutput: 20, cost: 100_000, byokCost: 0 },
      { date: "2026-11-28", model: claude, requests: 3, tokensInput: 10, tokensOutput: 20, cost: 100_000, byokCost: 0 },
      { date: "2026-11-28", model: gpt, requests: 2, tokensInput: 20, tokensOutput: 40, cost: 300_000, byokCost: 1 }
    ]))

  it("rounds each (date, model) to micro-dollars once, not each provider row (sub-micro figures add up)", () =>
    expect(
      sumActivity([
        line({ usage: 0.0000004, byok_usage_inference: 0.0000003 }),
        line({ usage: 0.0000004, byok_usage_inference: 0.0000003 }),
        line({ usage: 0.0000004, byok_usage_inference: 0.0000003 })
      ]).map((t) => [t.cost, t.byokCost])
    ).toEqual([[1, 1]]))

  it("rounds exact halves of a micro-dollar to even, so rows do not all lean up", () =>
    expect(
      [0.0000025, 0.0000035, 0.0000005, 0.0000015].map((usage) => sumActivity([line({ usage })])[0]?.cost)
    ).toEqual([2, 4, 0, 2]))

  it("sums nothing to no totals", () => expect(sumActivity([])).toEqual([]))
})
