import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either } from "effect"
import { evolveApiKey, initialApiKeyState } from "../src/ApiKey/Decider.js"
import { KeyAdded } from "../src/ApiKey/Events.js"
import { ChangeBudget, CreateBudget, DeleteBudget, EvaluateBudget, EvaluateSpike } from "../src/Budget/Commands.js"
import {
  type BudgetContext,
  type BudgetState,
  decideBudget,
  decideSpike,
  evolveBudget,
  evolveBudgetSlot,
  forecastAlertId,
  initialBudgetSlotState,
  initialBudgetState,
  initialSpikeState,
  spikeAlertId,
  thresholdAlertId
} from "../src/Budget/Decider.js"
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
import { type BudgetPeriod, periodOf, projectedSpend } from "../src/Budget/Period.js"
import { BudgetAlreadyExists, BudgetForbidden, BudgetNotFound, InvalidBudget, KeyForbidden } from "../src/Errors.js"
import { ApiKeyId, BudgetId, UserId, UtcDate } from "../src/Ids.js"
import { Micros } from "../src/Money.js"
import { type UsageState, usageStateOf } from "../src/Usage/Decider.js"
import type { UsageTotals } from "../src/Usage/Events.js"
import { UNATTRIBUTED } from "../src/Usage/Events.js"
import { evolveUser, initialUserState } from "../src/User/Decider.js"
import { KeyAttached, UserRegistered } from "../src/User/Events.js"
import { spec, stream } from "./support/DeciderSpec.js"

const alice = UserId.make("u-alice")
const bob = UserId.make("u-bob")
const k1 = ApiKeyId.make("k1")
const b1 = BudgetId.make("b1")
const created = DateTime.unsafeMake("2026-11-25T08:00:00Z")
/** Wednesday 25 November 2026, noon UTC: the week started on Monday the 23rd. */
const noon = DateTime.unsafeMake("2026-11-25T12:00:00Z")
const usd = (n: number) => Math.round(n * 1_000_000)

const totals = (cost: number): UsageTotals => ({
  requests: 1,
  tokensInput: 1,
  tokensOutput: 1,
  cost: Micros.make(cost),
  byokCost: Micros.make(0)
})
/** A key's usage stream folded: cost per `date|model`. */
const usageOf = (rows: Record<string, number>): UsageState =>
  usageStateOf(Object.entries(rows).map(([slot, cost]) => [slot, totals(cost)] as const))

const registered = new UserRegistered({ userId: alice, email: "a@example.com", passwordHash: "h", at: created })
const attached = new KeyAttached({ userId: alice, keyId: k1, at: created })
const keyAdded = new KeyAdded({
  keyId: k1,
  userId: alice,
  name: "Main",
  label: "l",
  keyHash: "h",
  ciphertext: "c",
  at: created
})

const budgetCreated = (fields: Partial<ConstructorParameters<typeof BudgetCreated>[0]> = {}) =>
  new BudgetCreated({
    budgetId: b1,
    userId: alice,
    scope: "key",
    keyId: k1,
    amount: Micros.make(usd(10)),
    period: "daily",
    thresholds: [50, 80, 100],
    at: created,
    ...fields
  })

/** The decider over a given budget history and k1's usage. */
const budgets = (usage: Record<string, number> = {}) =>
  spec(
    {
      budget: stream(initialBudgetState, evolveBudget),
      slot: stream(initialBudgetSlotState, evolveBudgetSlot),
      user: stream(initialUserState, evolveUser),
      key: stream(
        () => initialApiKeyState() as BudgetContext["key"],
        (s, e: KeyAdded) => evolveApiKey(s ?? initialApiKeyState(), e)
      ),
      usage: stream(
        () => [{ keyId: k1, usage: usageOf(usage) }] as BudgetContext["usage"],
        (s, _e: never) => s
      )
    },
    decideBudget
  )

const crossed = (threshold: number, spent: number, periodStart: string, at = noon, period: BudgetPeriod = "daily") =>
  new BudgetThresholdCrossed({
    alertId: thresholdAlertId(b1, threshold, periodStart),
    budgetId: b1,
    userId: alice,
    keyId: k1,
    threshold,
    amount: Micros.make(usd(10)),
    spent: Micros.make(spent),
    period,
    periodStart: UtcDate.make(periodStart),
    at
  })

/** The thresholds a decision fires (a period's first instants also project a forecast: see the forecast test). */
const thresholdsFired = (
  usage: Record<string, number>,
  history: Parameters<ReturnType<typeof budgets>["given"]>[0],
  command: Parameters<typeof decideBudget>[0]
) =>
  Either.getOrThrow(decideBudget(command, budgets(usage).given(history).state())).filter(
    (e) => e._tag === "BudgetThresholdCrossed"
  )

const evaluate = (at = noon) => new EvaluateBudget({ budgetId: b1, at })
const base = { user: [registered, attached], key: [keyAdded] }

describe("Budget periods (UTC)", () => {
  it("daily: from 00:00 UTC to the next 00:00", () => {
    const w = periodOf("daily", DateTime.unsafeMake("2026-11-25T23:59:59Z"))
    expect([w.start, w.end]).toEqual(["2026-11-25", "2026-11-26"])
  })
  it("weekly: Monday 00:00 UTC, also on a Sunday night and a Monday at midnight", () => {
    expect(periodOf("weekly", DateTime.unsafeMake("2026-11-29T23:59:59Z")).start).toBe("2026-11-23")
    expect(periodOf("weekly", DateTime.unsafeMake("2026-11-30T00:00:00Z")).start).toBe("2026-11-30")
    expect(periodOf("weekly", DateTime.unsafeMake("2026-11-30T00:00:00Z")).end).toBe("2026-12-07")
  })
  it("monthly: the 1st, across year ends and February (leap and common years)", () => {
    expect(periodOf("monthly", DateTime.unsafeMake("2026-12-31T23:00:00Z")).end).toBe("2027-01-01")
    const feb = periodOf("monthly", DateTime.unsafeMake("2028-02-29T12:00:00Z"))
    expect([feb.start, feb.end]).toEqual(["2028-02-01", "2028-03-01"])
    expect(periodOf("monthly", DateTime.unsafeMake("2027-02-28T23:59:59Z")).end).toBe("2027-03-01")
  })
  it("projects the spend linearly to the period's end (at least one hour elapsed)", () => {
    const w = periodOf("daily", noon)
    expect(projectedSpend(usd(3), w, noon)).toBe(usd(6))
    expect(projectedSpend(usd(1), w, DateTime.unsafeMake("2026-11-25T00:01:00Z"))).toBe(usd(24))
  })
})

describe("Budget decider", () => {
  describe("CreateBudget", () => {
    const create = (fields: Partial<ConstructorParameters<typeof CreateBudget>[0]> = {}) =>
      new CreateBudget({
        budgetId: b1,
        userId: alice,
        scope: "key",
        keyId: k1,
        amount: usd(10),
        period: "daily",
        thresholds: [100, 50, 80],
        at: created,
        ...fields
      })
    const claimed = new BudgetSlotClaimed({ slot: "u-alice:key:k1:daily", budgetId: b1, userId: alice, at: created })

    it("claims the (user, scope, key, period) slot and keeps thresholds ascending", () =>
      budgets().given(base).when(create()).then([claimed, budgetCreated()]))

    it("refuses a second budget for the same slot (400)", () =>
      budgets()
        .given({ ...base, slot: [claimed] })
        .when(create({ budgetId: BudgetId.make("b2") }))
        .thenFails(BudgetAlreadyExists))

    it("refuses thresholds out of 1–1000, repeated, and a non-positive amount", () => {
      budgets()
        .given(base)
        .when(create({ thresholds: [0] }))
        .thenFails(InvalidBudget)
      budgets()
        .given(base)
        .when(create({ thresholds: [1001] }))
        .thenFails(InvalidBudget)
      budgets()
        .given(base)
        .when(create({ thresholds: [50, 50] }))
        .thenFails(InvalidBudget)
      budgets()
        .given(base)
        .when(create({ amount: 0 }))
        .thenFails(InvalidBudget)
    })

    it("refuses another user's key (403)", () =>
      budgets()
        .given({
          ...base,
          user: [new UserRegistered({ userId: bob, email: "b@example.com", passwordHash: "h", at: created })]
        })
        .when(create({ userId: bob }))
        .thenFails(KeyForbidden))

    it("a budget created above a threshold fires it at once, in the same decision", () =>
      expect(thresholdsFired({ "2026-11-25|m": usd(6) }, base, create())).toEqual([
        crossed(50, usd(6), "2026-11-25", created)
      ]))
  })

  describe("EvaluateBudget", () => {
    const history = { ...base, budget: [budgetCreated()] }

    it("fires a crossed threshold once: the same usage decided again fires nothing", () => {
      const usage = { "2026-11-25|m": usd(5) }
      budgets(usage)
        .given(history)
        .when(evaluate())
        .then([crossed(50, usd(5), "2026-11-25")])
      budgets(usage)
        .given({ ...history, budget: [budgetCreated(), crossed(50, usd(5), "2026-11-25")] })
        .when(evaluate())
        .thenNothing()
    })

    it("fires nothing below every threshold", () =>
      budgets({ "2026-11-25|m": usd(4.99) })
        .given(history)
        .when(evaluate())
        .thenNothing())

    it("several thresholds crossed by one sync fire each, in ascending order", () =>
      budgets({ "2026-11-25|a": usd(7), "2026-11-25|b": usd(4) })
        .given(history)
        .when(evaluate())
        .then([
          crossed(50, usd(11), "2026-11-25"),
          crossed(80, usd(11), "2026-11-25"),
          crossed(100, usd(11), "2026-11-25")
        ]))

    it("counts effective usage only: a day's unattributed row gives way to its per-model rows", () =>
      budgets({ [`2026-11-25|${UNATTRIBUTED}`]: usd(9), "2026-11-25|m": usd(4) })
        .given(history)
        .when(evaluate())
        .thenNothing())

    it("daily rollover at 00:00 UTC re-arms every threshold", () =>
      expect(
        thresholdsFired(
          { "2026-11-25|m": usd(5), "2026-11-26|m": usd(5) },
          { ...history, budget: [budgetCreated(), crossed(50, usd(5), "2026-11-25")] },
          evaluate(DateTime.unsafeMake("2026-11-26T00:00:00Z"))
        )
      ).toEqual([crossed(50, usd(5), "2026-11-26", DateTime.unsafeMake("2026-11-26T00:00:00Z"))]))

    it("weekly: re-armed across Monday 00:00 UTC, not before", () => {
      const weekly = budgetCreated({ period: "weekly" })
      const fired = crossed(50, usd(5), "2026-11-23", noon, "weekly")
      const sunday = DateTime.unsafeMake("2026-11-29T23:59:59Z")
      const monday = DateTime.unsafeMake("2026-11-30T00:00:00Z")
      const usage = { "2026-11-25|m": usd(5), "2026-11-29|m": usd(1), "2026-11-30|m": usd(5) }
      expect(thresholdsFired(usage, { ...history, budget: [weekly, fired] }, evaluate(sunday))).toEqual([])
      expect(thresholdsFired(usage, { ...history, budget: [weekly, fired] }, evaluate(monday))).toEqual([
        crossed(50, usd(5), "2026-11-30", monday, "weekly")
      ])
    })

    it("monthly: re-armed across the month end, February included", () => {
      const monthly = budgetCreated({ period: "monthly" })
      const fired = crossed(50, usd(5), "2028-02-01", DateTime.unsafeMake("2028-02-10T00:00:00Z"), "monthly")
      const usage = { "2028-02-10|m": usd(5), "2028-02-29|m": usd(0.5), "2028-03-01|m": usd(6) }
      expect(
        thresholdsFired(
          usage,
          { ...history, budget: [monthly, fired] },
          evaluate(DateTime.unsafeMake("2028-02-29T23:59:59Z"))
        )
      ).toEqual([])
      const march = DateTime.unsafeMake("2028-03-01T00:00:00Z")
      expect(thresholdsFired(usage, { ...history, budget: [monthly, fired] }, evaluate(march))).toEqual([
        crossed(50, usd(6), "2028-03-01", march, "monthly")
      ])
    })

    it("a deleted budget fires nothing", () =>
      budgets({ "2026-11-25|m": usd(50) })
        .given({
          ...history,
          budget: [budgetCreated(), new BudgetDeleted({ budgetId: b1, userId: alice, at: created })]
        })
        .when(evaluate())
        .thenNothing())

    it("forecast: once per period when the projection first exceeds the amount, before 100 %", () => {
      const forecast = budgetCreated({ thresholds: [100] })
      const six = DateTime.unsafeMake("2026-11-25T06:00:00Z")
      const alert = new BudgetForecastExceeded({
        alertId: forecastAlertId(b1, "2026-11-25"),
        budgetId: b1,
        userId: alice,
        keyId: k1,
        amount: Micros.make(usd(10)),
        spent: Micros.make(usd(3)),
        projected: Micros.make(usd(12)),
        period: "daily",
        periodStart: UtcDate.make("2026-11-25"),
        at: six
      })
      budgets({ "2026-11-25|m": usd(3) })
        .given({ ...history, budget: [forecast] })
        .when(evaluate(six))
        .then([alert])
      budgets({ "2026-11-25|m": usd(4) })
        .given({ ...history, budget: [forecast, alert] })
        .when(evaluate(six))
        .thenNothing()
      // At 100 % it is a threshold, no longer a forecast.
      budgets({ "2026-11-25|m": usd(10) })
        .given({ ...history, budget: [forecast] })
        .when(evaluate(six))
        .then([crossed(100, usd(10), "2026-11-25", six)])
    })
  })

  describe("ChangeBudget mid-period", () => {
    const fired = [budgetCreated(), crossed(50, usd(6), "2026-11-25")]
    const history = { ...base, budget: fired }

    it("a raised amount re-arms the thresholds it puts out of reach, then they fire again when reached", () => {
      const changed = new BudgetChanged({
        budgetId: b1,
        userId: alice,
        amount: Micros.make(usd(20)),
        thresholds: [50, 80, 100],
        periodStart: UtcDate.make("2026-11-25"),
        rearmed: [50],
        forecastRearmed: false,
        at: noon
      })
      budgets({ "2026-11-25|m": usd(6) })
        .given(history)
        .when(new ChangeBudget({ budgetId: b1, userId: alice, amount: usd(20), at: noon }))
        .then([changed])
      const state = budgets()
        .given({ ...history, budget: [...fired, changed] })
        .state().budget as BudgetState
      expect(state._tag === "Active" && state.fired).toEqual([])
    })

    it("a lowered amount fires the thresholds now reached at once, not the one already fired", () =>
      budgets({ "2026-11-25|m": usd(6) })
        .given(history)
        .when(new ChangeBudget({ budgetId: b1, userId: alice, amount: usd(6), at: noon }))
        .then([
          new BudgetChanged({
            budgetId: b1,
            userId: alice,
            amount: Micros.make(usd(6)),
            thresholds: [50, 80, 100],
            periodStart: UtcDate.make("2026-11-25"),
            rearmed: [],
            forecastRearmed: false,
            at: noon
          }),
          new BudgetThresholdCrossed({ ...crossed(80, usd(6), "2026-11-25"), amount: Micros.make(usd(6)) }),
          new BudgetThresholdCrossed({ ...crossed(100, usd(6), "2026-11-25"), amount: Micros.make(usd(6)) })
        ]))

    it("another user's budget is 403, an unknown one 404", () => {
      budgets()
        .given(history)
        .when(new ChangeBudget({ budgetId: b1, userId: bob, amount: 1, at: noon }))
        .thenFails(BudgetForbidden)
      budgets()
        .given(base)
        .when(new ChangeBudget({ budgetId: b1, userId: alice, amount: 1, at: noon }))
        .thenFails(BudgetNotFound)
    })
  })

  describe("DeleteBudget", () => {
    it("deletes and releases the slot, so a new budget can take it", () =>
      budgets()
        .given({ ...base, budget: [budgetCreated()] })
        .when(new DeleteBudget({ budgetId: b1, userId: alice, at: noon }))
        .then([
          new BudgetDeleted({ budgetId: b1, userId: alice, at: noon }),
          new BudgetSlotReleased({ slot: "u-alice:key:k1:daily", budgetId: b1, userId: alice, at: noon })
        ]))
  })
})

describe("Spike rule", () => {
  const spikes = (usage: Record<string, number>) =>
    spec(
      {
        key: stream(initialApiKeyState, evolveApiKey),
        usage: stream(
          () => ({ keyId: k1, usage: usageOf(usage) }),
          (s, _e: never) => s
        ),
        spike: stream(initialSpikeState, (_s, e: KeySpendSpiked) => ({ lastDate: e.date }))
      },
      decideSpike
    )
  const week = Object.fromEntries([18, 19, 20, 21, 22, 23, 24].map((d) => [`2026-11-${d}|m`, usd(1)]))
  const check = new EvaluateSpike({ keyId: k1, factor: 3, at: noon })
  const spiked = new KeySpendSpiked({
    alertId: spikeAlertId(k1, "2026-11-25"),
    keyId: k1,
    userId: alice,
    date: UtcDate.make("2026-11-25"),
    spent: Micros.make(usd(3.5)),
    average: Micros.make(usd(1)),
    factor: 3,
    at: noon
  })

  it("fires when today's spend exceeds 3 × the trailing 7 days' average", () =>
    spikes({ ...week, "2026-11-25|m": usd(3.5) })
      .given({ key: [keyAdded] })
      .when(check)
      .then([spiked]))

  it("fires at most once a day per key", () =>
    spikes({ ...week, "2026-11-25|m": usd(9) })
      .given({ key: [keyAdded], spike: [spiked] })
      .when(check)
      .thenNothing())

  it("not at exactly 3 ×, never under $1, and not without a baseline (nothing in the trailing week)", () => {
    spikes({ "2026-11-25|m": usd(50) })
      .given({ key: [keyAdded] })
      .when(check)
      .thenNothing()
    spikes({ ...week, "2026-11-25|m": usd(3) })
      .given({ key: [keyAdded] })
      .when(check)
      .thenNothing()
    spikes({ "2026-11-25|m": usd(0.99) })
      .given({ key: [keyAdded] })
      .when(check)
      .thenNothing()
  })
})
