import { type DateTime, Either, Match } from "effect"
import type { ApiKeyState } from "../ApiKey/Decider.js"
import { utcDateOf } from "../Dates.js"
import {
  AlreadyExists,
  BudgetAlreadyExists,
  BudgetForbidden,
  BudgetNotFound,
  type CommandRejections,
  InvalidBudget,
  KeyForbidden,
  KeyNotFound,
  UserNotFound
} from "../Errors.js"
import { AlertId, type ApiKeyId, type BudgetId, type UserId } from "../Ids.js"
import { Micros } from "../Money.js"
import type { UserState } from "../User/Decider.js"
import type {
  BudgetCommand,
  ChangeBudget,
  CreateBudget,
  DeleteBudget,
  EvaluateBudget,
  EvaluateSpike
} from "./Commands.js"
import type { BudgetEvent, BudgetScope, BudgetSlotEvent, SpikeEvent } from "./Events.js"
import {
  BudgetChanged,
  BudgetCreated,
  BudgetDeleted,
  BudgetForecastExceeded,
  BudgetSlotClaimed,
  BudgetSlotReleased,
  BudgetThresholdCrossed,
  KeySpendSpiked
} from "./Events.js"
import { type BudgetPeriod, type PeriodWindow, periodOf, projectedSpend, reaches } from "./Period.js"
import { type KeyUsage, shiftDays, spentIn, spentOn, trailingWeek, usageLinesBetween } from "./Spend.js"

export interface ActiveBudget {
  readonly _tag: "Active"
  readonly budgetId: BudgetId
  readonly userId: UserId
  readonly scope: BudgetScope
  readonly keyId: ApiKeyId | null
  readonly amount: Micros
  readonly period: BudgetPeriod
  readonly thresholds: ReadonlyArray<number>
  /** The period whose firings `fired` and `forecast` hold; a later period re-arms everything. */
  readonly firedPeriod: string | null
  readonly fired: ReadonlyArray<number>
  readonly forecast: boolean
}

export type BudgetState =
  | { readonly _tag: "None" }
  | ActiveBudget
  | { readonly _tag: "Deleted"; readonly budgetId: BudgetId; readonly userId: UserId }

/** Which budget holds a (user, scope, key, period). */
export type BudgetSlotState = { readonly budgetId: BudgetId | null }

/** The last day a key's spike alert fired. */
export type SpikeState = { readonly lastDate: string | null }

export const initialBudgetState = (): BudgetState => ({ _tag: "None" })
export const initialBudgetSlotState = (): BudgetSlotState => ({ budgetId: null })
export const initialSpikeState = (): SpikeState => ({ lastDate: null })

/** The slot of a budget: one budget per (user, scope, key, period). */
export const budgetSlot = (userId: string, scope: BudgetScope, keyId: string | null, period: BudgetPeriod) =>
  `${userId}:${scope}:${keyId ?? "*"}:${period}`

/** Firings of `periodStart`, reset when a later period fires. */
const firings = (state: ActiveBudget, periodStart: string) =>
  state.firedPeriod === periodStart ? state : { ...state, firedPeriod: periodStart, fired: [], forecast: false }

export const evolveBudget = (state: BudgetState, event: BudgetEvent): BudgetState =>
  Match.value(event).pipe(
    Match.tagsExhaustive({
      BudgetCreated: (e): BudgetState =>
        state._tag !== "None"
          ? state
          : {
              _tag: "Active",
              budgetId: e.budgetId,
              userId: e.userId,
              scope: e.scope,
              keyId: e.keyId,
              amount: e.amount,
              period: e.period,
              thresholds: e.thresholds,
              firedPeriod: null,
              fired: [],
              forecast: false
            },
      BudgetChanged: (e): BudgetState => {
        if (state._tag !== "Active") return state
        const current = firings(state, e.periodStart)
        return {
          ...current,
          amount: e.amount,
          thresholds: e.thresholds,
          fired: current.fired.filter((t) => !e.rearmed.includes(t)),
          forecast: current.forecast && !e.forecastRearmed
        }
      },
      BudgetDeleted: (e): BudgetState => ({ _tag: "Deleted", budgetId: e.budgetId, userId: e.userId }),
      BudgetThresholdCrossed: (e): BudgetState => {
        if (state._tag !== "Active") return state
        const current = firings(state, e.periodStart)
        return { ...current, fired: [...current.fired, e.threshold] }
      },
      BudgetForecastExceeded: (e): BudgetState =>
        state._tag !== "Active" ? state : { ...firings(state, e.periodStart), forecast: true }
    })
  )

export const evolveBudgetSlot = (_state: BudgetSlotState, event: BudgetSlotEvent): BudgetSlotState =>
  event._tag === "BudgetSlotClaimed" ? { budgetId: event.budgetId } : { budgetId: null }

export const evolveSpike = (_state: SpikeState, event: SpikeEvent): SpikeState => ({ lastDate: event.date })

/**
 * What budget commands decide on: the budget, its slot, its owner and key, and the usage streams of the
 * keys it covers (one key, or every key on the owner's keyring), so the spend is the store's, read at
 * the versions the append is checked against.
 */
export interface BudgetContext {
  readonly budget: BudgetState
  readonly slot: BudgetSlotState
  readonly user: UserState
  readonly key: ApiKeyState | null
  readonly usage: ReadonlyArray<KeyUsage>
}

type Decision<C extends BudgetCommand["_tag"]> = Either.Either<
  ReadonlyArray<BudgetEvent | BudgetSlotEvent>,
  CommandRejections[C]
>

const MAX_AMOUNT = 1_000_000_000_000_000 // $1 billion in micro-dollars
const MAX_THRESHOLDS = 20

const checkAmount = (amount: number): InvalidBudget | null =>
  !Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_AMOUNT
    ? new InvalidBudget({ reason: "amount must be more than 0 and at most 1000000000 USD" })
    : null

/** Thresholds: whole percents 1–1000, no repeats; kept ascending. */
export const checkThresholds = (
  thresholds: ReadonlyArray<number>
): Either.Either<ReadonlyArray<number>, InvalidBudget> => {
  if (thresholds.length === 0 || thresholds.length > MAX_THRESHOLDS) {
    return Either.left(new InvalidBudget({ reason: `between 1 and ${MAX_THRESHOLDS} thresholds are needed` }))
  }
  if (!thresholds.every((t) => Number.isInteger(t) && t >= 1 && t <= 1000)) {
    return Either.left(new InvalidBudget({ reason: "thresholds must be whole percents from 1 to 1000" }))
  }
  if (new Set(thresholds).size !== thresholds.length) {
    return Either.left(new InvalidBudget({ reason: "thresholds must be unique" }))
  }
  return Either.right([...thresholds].sort((a, b) => a - b))
}

/** Alert ids name what they fire for, so the same (budget, threshold, period) can only ever be one alert. */
export const thresholdAlertId = (budgetId: string, threshold: number, periodStart: string) =>
  AlertId.make(`${budgetId}.t${threshold}.${periodStart}`)
export const forecastAlertId = (budgetId: string, periodStart: string) =>
  AlertId.make(`${budgetId}.forecast.${periodStart}`)
export const spikeAlertId = (keyId: string, date: string) => AlertId.make(`${keyId}.spike.${date}`)

/** The spend and projection of a budget's current period at `at`. */
export const budgetFigures = (
  budget: { readonly period: BudgetPeriod },
  usage: ReadonlyArray<KeyUsage>,
  at: DateTime.DateTime
) => {
  const window = periodOf(budget.period, at)
  // The period's days only (the usage's date index): the same lines spentIn would keep out of the whole history.
  const spent = spentIn(usageLinesBetween(usage, window.start, window.end), window)
  return { window, spent, projected: projectedSpend(spent, window, at) }
}

/**
 * The firing rule: in the period of `at`, each threshold reached and not yet fired fires once, in
 * ascending order; the forecast fires once when the projection first exceeds the amount while the spend
 * is still below it. The budget stream's version makes "not yet fired" the store's decision.
 */
export const fire = (
  budget: ActiveBudget,
  usage: ReadonlyArray<KeyUsage>,
  at: DateTime.Utc
): ReadonlyArray<BudgetThresholdCrossed | BudgetForecastExceeded> => {
  const { window, spent, projected } = budgetFigures(budget, usage, at)
  const current = firings(budget, window.start)
  const common = { budgetId: budget.budgetId, userId: budget.userId, keyId: budget.keyId, period: budget.period }
  const crossed = budget.thresholds
    .filter((t) => !current.fired.includes(t) && reaches(spent, budget.amount, t))
    .map(
      (threshold) =>
        new BudgetThresholdCrossed({
          ...common,
          alertId: thresholdAlertId(budget.budgetId, threshold, window.start),
          threshold,
          amount: budget.amount,
          spent: Micros.make(spent),
          periodStart: window.start,
          at
        })
    )
  const forecast =
    !current.forecast && projected > budget.amount && spent < budget.amount
      ? [
          new BudgetForecastExceeded({
            ...common,
            alertId: forecastAlertId(budget.budgetId, window.start),
            amount: budget.amount,
            spent: Micros.make(spent),
            projected: Micros.make(projected),
            periodStart: window.start,
            at
          })
        ]
      : []
  return [...crossed, ...forecast]
}

const owned = (ctx: BudgetContext, userId: UserId): BudgetNotFound | BudgetForbidden | ActiveBudget => {
  if (ctx.budget._tag !== "Active") return new BudgetNotFound()
  if (ctx.budget.userId !== userId) return new BudgetForbidden()
  return ctx.budget
}

const createBudget = (cmd: CreateBudget, ctx: BudgetContext): Decision<"CreateBudget"> => {
  if (ctx.budget._tag !== "None") return Either.left(new AlreadyExists())
  if (ctx.user._tag !== "Registered" || ctx.user.userId !== cmd.userId) return Either.left(new UserNotFound())
  if (cmd.scope === "key") {
    if (cmd.keyId === null) return Either.left(new InvalidBudget({ reason: "a key budget needs key_id" }))
    if (ctx.key === null || ctx.key._tag !== "Present") return Either.left(new KeyNotFound())
    if (ctx.key.userId !== cmd.userId) return Either.left(new KeyForbidden())
  } else if (cmd.keyId !== null) {
    return Either.left(new InvalidBudget({ reason: "an account budget takes no key_id" }))
  }
  const badAmount = checkAmount(cmd.amount)
  if (badAmount) return Either.left(badAmount)
  const thresholds = checkThresholds(cmd.thresholds)
  if (Either.isLeft(thresholds)) return Either.left(thresholds.left)
  if (ctx.slot.budgetId !== null) return Either.left(new BudgetAlreadyExists())
  const created = new BudgetCreated({
    budgetId: cmd.budgetId,
    userId: cmd.userId,
    scope: cmd.scope,
    keyId: cmd.keyId,
    amount: Micros.make(cmd.amount),
    period: cmd.period,
    thresholds: thresholds.right,
    at: cmd.at
  })
  const claimed = new BudgetSlotClaimed({
    slot: budgetSlot(cmd.userId, cmd.scope, cmd.keyId, cmd.period),
    budgetId: cmd.budgetId,
    userId: cmd.userId,
    at: cmd.at
  })
  // Created above a threshold: it fires at once, in the same append.
  const state = evolveBudget(ctx.budget, created) as ActiveBudget
  return Either.right([claimed, created, ...fire(state, ctx.usage, cmd.at)])
}

const changeBudget = (cmd: ChangeBudget, ctx: BudgetContext): Decision<"ChangeBudget"> => {
  const budget = owned(ctx, cmd.userId)
  if (budget._tag !== "Active") return Either.left(budget)
  const amount = cmd.amount ?? budget.amount
  const badAmount = checkAmount(amount)
  if (badAmount) return Either.left(badAmount)
  const thresholds = checkThresholds(cmd.thresholds ?? budget.thresholds)
  if (Either.isLeft(thresholds)) return Either.left(thresholds.left)
  if (amount === budget.amount && thresholds.right.join() === budget.thresholds.join()) return Either.right([])
  const { window, spent, projected } = budgetFigures(budget, ctx.usage, cmd.at)
  const current = firings(budget, window.start)
  const changed = new BudgetChanged({
    budgetId: budget.budgetId,
    userId: budget.userId,
    amount: Micros.make(amount),
    thresholds: thresholds.right,
    periodStart: window.start,
    // A raised amount puts fired thresholds out of reach again: they re-arm; those still reached stay fired.
    rearmed: current.fired.filter((t) => !reaches(spent, amount, t)),
    forecastRearmed: current.forecast && !(projected > amount),
    at: cmd.at
  })
  const state = evolveBudget(budget, changed) as ActiveBudget
  return Either.right([changed, ...fire(state, ctx.usage, cmd.at)])
}

const deleteBudget = (cmd: DeleteBudget, ctx: BudgetContext): Decision<"DeleteBudget"> => {
  const budget = owned(ctx, cmd.userId)
  if (budget._tag !== "Active") return Either.left(budget)
  return Either.right([
    new BudgetDeleted({ budgetId: budget.budgetId, userId: budget.userId, at: cmd.at }),
    new BudgetSlotReleased({
      slot: budgetSlot(budget.userId, budget.scope, budget.keyId, budget.period),
      budgetId: budget.budgetId,
      userId: budget.userId,
      at: cmd.at
    })
  ])
}

/** A deleted or unknown budget fires nothing (not an error: evaluation follows usage, whoever recorded it). */
const evaluateBudget = (cmd: EvaluateBudget, ctx: BudgetContext): Decision<"EvaluateBudget"> => {
  if (ctx.budget._tag !== "Active") return Either.right([])
  if (ctx.budget.scope === "key" && ctx.key?._tag !== "Present") return Either.right([])
  return Either.right(fire(ctx.budget, ctx.usage, cmd.at))
}

export const decideBudget = (
  cmd: Exclude<BudgetCommand, EvaluateSpike>,
  ctx: BudgetContext
): Either.Either<ReadonlyArray<BudgetEvent | BudgetSlotEvent>, CommandRejections[typeof cmd._tag]> =>
  Match.value(cmd).pipe(
    Match.tagsExhaustive({
      CreateBudget: (c) => createBudget(c, ctx),
      ChangeBudget: (c) => changeBudget(c, ctx),
      DeleteBudget: (c) => deleteBudget(c, ctx),
      EvaluateBudget: (c) => evaluateBudget(c, ctx)
    })
  )

/** What the spike rule decides on: the key, its usage, and the day its spike last fired. */
export interface SpikeContext {
  readonly key: ApiKeyState
  readonly usage: KeyUsage
  readonly spike: SpikeState
}

/** At least $1 today, and more than `factor` × the trailing 7 completed days' daily average. */
export const SPIKE_MINIMUM = 1_000_000

/** Once a day per key: today's spend beyond `factor` × the trailing week's daily average, and at least $1. */
export const decideSpike = (
  cmd: EvaluateSpike,
  ctx: SpikeContext
): Either.Either<ReadonlyArray<SpikeEvent>, CommandRejections["EvaluateSpike"]> => {
  if (ctx.key._tag !== "Present") return Either.right([])
  const today = utcDateOf(cmd.at)
  if (ctx.spike.lastDate === today) return Either.right([])
  // Today first, off the usage's date index: most days spend less than the minimum, and the week is not read.
  const tomorrow = shiftDays(today, 1)
  const spent = spentOn(usageLinesBetween([ctx.usage], today, tomorrow), today)
  if (spent < SPIKE_MINIMUM) return Either.right([])
  // The 7 days before today: not the key's whole history.
  const week = trailingWeek(usageLinesBetween([ctx.usage], shiftDays(today, -7), tomorrow), today)
  // No baseline, no spike: a key seen for the first time (nothing in the trailing week) is not "spiking".
  // spent > factor × week / 7, kept out of fractions of a micro-dollar.
  if (week === 0 || spent < SPIKE_MINIMUM || !(spent * 7 > cmd.factor * week)) return Either.right([])
  return Either.right([
    new KeySpendSpiked({
      alertId: spikeAlertId(ctx.key.keyId, today),
      keyId: ctx.key.keyId,
      userId: ctx.key.userId,
      date: today,
      spent: Micros.make(spent),
      average: Micros.make(Math.round(week / 7)),
      factor: cmd.factor,
      at: cmd.at
    })
  ])
}

export type { PeriodWindow }
