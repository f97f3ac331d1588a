import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { evolveApiKey, initialApiKeyState } from "../src/ApiKey/Decider.js"
import { KeyAdded, type KeyStatus, KeyStatusRecorded } from "../src/ApiKey/Events.js"
import { ApiKeyId, UserId, UtcDate } from "../src/Ids.js"
import { Micros } from "../src/Money.js"
import { ReconcileUsage } from "../src/Reconciliation/Commands.js"
import {
  decideReconcile,
  evolveBaseline,
  evolveDiscrepancy,
  initialBaseline,
  initialDiscrepancyState
} from "../src/Reconciliation/Decider.js"
import type { UsageDiscrepancyFound } from "../src/Reconciliation/Events.js"
import { evolveUsage, initialUsageState } from "../src/Usage/Decider.js"
import { UsageRecorded, type UsageTotals } from "../src/Usage/Events.js"
import { keyStatus } from "./support/KeyStatus.js"

const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
const alice = UserId.make("u-alice")
const k1 = ApiKeyId.make("k1")
const today = UtcDate.make("2026-11-29")
const d = (n: number) => UtcDate.make(new Date(Date.UTC(2026, 10, 29 - n)).toISOString().slice(0, 10))
const gpt = "openai/gpt-4.1"

const added = new KeyAdded({ keyId: k1, userId: alice, name: "k", label: "l", keyHash: "h", ciphertext: "c", at })
const status = (usage: number, usageDaily = 0) =>
  new KeyStatusRecorded({
    keyId: k1,
    userId: alice,
    status: keyStatus({ usage: Micros.make(usage), usageDaily: Micros.make(usageDaily) }) as KeyStatus,
    at
  })
const totals = (cost: number): UsageTotals => ({
  requests: 1,
  tokensInput: 0,
  tokensOutput: 0,
  cost: Micros.make(cost),
  byokCost: Micros.make(0)
})
const usage = (date: UtcDate, model: string, cost: number) =>
  new UsageRecorded({ keyId: k1, userId: alice, date, model, totals: totals(cost), at })
const upstream = (date: UtcDate, model: string, cost: number) => ({
  date,
  model,
  requests: 1,
  tokensInput: 0,
  tokensOutput: 0,
  cost,
  byokCost: 0
})

const decide = (
  keyEvents: ReadonlyArray<KeyAdded | KeyStatusRecorded>,
  usageEvents: ReadonlyArray<UsageRecorded>,
  activity: ReconcileUsage["activity"],
  found: ReadonlyArray<UsageDiscrepancyFound> = []
) =>
  Either.getOrThrow(
    decideReconcile(new ReconcileUsage({ keyId: k1, activity, today, at }), {
      key: keyEvents.reduce(evolveApiKey, initialApiKeyState()),
      usage: usageEvents.reduce(evolveUsage, initialUsageState()),
      baseline: keyEvents.reduce(evolveBaseline, initialBaseline()),
      discrepancies: found.reduce(evolveDiscrepancy, initialDiscrepancyState())
    })
  )
const window = (totals: ReadonlyArray<ReturnType<typeof upstream>>) => ({ from: d(30), to: d(1), totals })
const findings = (events: ReadonlyArray<{ _tag: string }>) =>
  events.filter((e): e is UsageDiscrepancyFound => e._tag === "UsageDiscrepancyFound")

describe("reconciliation", () => {
  describe("a key known only through /key (no management key)", () => {
    it("baseline + unattributed growth equals OpenRouter's all-time usage: nothing found", () => {
      // Baseline $10 (no usage recorded for it), then $0.5 of growth over two days.
      const events = decide(
        [added, status(10_000_000), status(10_300_000), status(10_500_000, 200_000)],
        [usage(d(1), "unattributed", 300_000), usage(today, "unattributed", 200_000)],
        null
      )
      expect(events).toEqual([])
    })

    it("a lower all-time figure than recorded (growth OpenRouter took back) is an all-time discrepancy", () => {
      const events = decide(
        [added, status(10_000_000), status(10_500_000), status(10_400_000)],
        [usage(today, "unattributed", 500_000)],
        null
      )
      expect(findings(events).map((e) => [e.scope, e.recorded, e.upstream])).toEqual([
        ["all-time", 10_500_000, 10_400_000]
      ])
    })
  })

  describe("a key split per model", () => {
    const history = [usage(d(40), gpt, 1_000_000), usage(d(10), gpt, 2_000_000), usage(d(1), gpt, 500_000)]
    // OpenRouter's all-time = the days + today's $0.25 (usage_daily); the baseline is inside the history.
    const keyEvents = [added, status(3_000_000), status(3_750_000, 250_000)]

    it("the days and the all-time agree (baseline not added again, today's estimate not compared): nothing", () => {
      const events = decide(
        keyEvents,
        [...history, usage(today, "unattributed", 100)],
        window([upstream(d(10), gpt, 2_000_000), upstream(d(1), gpt, 500_000)])
      )
      expect(events).toEqual([])
    })

    it("a revised day: a day discrepancy with both figures, and OpenRouter's figure recorded again", () => {
      const events = decide(
        [added, status(3_000_000), status(3_760_000, 250_000)],
        history,
        window([upstream(d(10), gpt, 2_010_000), upstream(d(1), gpt, 500_000)])
      )
      expect(events.map((e) => e._tag)).toEqual(["UsageDiscrepancyFound", "UsageRecorded"])
      expect(findings(events).map((e) => [e.scope, e.date, e.model, e.recorded, e.upstream])).toEqual([
        ["day", d(10), gpt, 2_000_000, 2_010_000]
      ])
    })

    it("a day OpenRouter no longer reports is recorded as zero; a micro-dollar apart is not a discrepancy", () => {
      const events = decide([added, status(3_000_001)], history, window([upstream(d(10), gpt, 2_000_001)]))
      expect(findings(events).map((e) => [e.date, e.recorded, e.upstream])).toEqual([[d(1), 500_000, 0]])
      expect(events.filter((e) => e._tag === "UsageRecorded")).toHaveLength(2)
    })

    it("a standing all-time gap is reported once, a new gap again", () => {
      const gap = [added, status(3_000_000), status(4_750_000, 250_000)] // $1 more than the days show
      const first = findings(decide(gap, history, null))
      expect(first.map((e) => [e.scope, e.recorded, e.upstream])).toEqual([["all-time", 3_750_000, 4_750_000]])
      expect(decide(gap, history, null, first)).toEqual([])
      const wider = [added, status(3_000_000), status(5_750_000, 250_000)]
      expect(findings(decide(wider, history, null, first)).map((e) => e.upstream)).toEqual([5_750_000])
    })
  })
})
