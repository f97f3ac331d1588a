import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import {
  type ApiKeyId,
  addDays,
  BudgetCommands,
  BudgetId,
  BudgetNotFound,
  type BudgetPeriod,
  type BudgetScope,
  DEFAULT_THRESHOLDS,
  microsToUsd,
  periodOf,
  projectedSpend,
  type UserId,
  usdToMicros
} from "@orw/domain"
import { BudgetList, BudgetRow, type CreateBudgetRequest, type UpdateBudgetRequest } from "@orw/domain/Api"
import { DateTime, Effect, Option } from "effect"
import { Dispatcher } from "../Dispatcher.js"
import * as Budgets from "../Projections/Budgets.js"
import * as UsageStats from "../Projections/UsageStats.js"
import { metadataOf, type Origin } from "./Origin.js"

/** A budget's current period and its spend, from the same effective rows and exact sums as /api/v1/stats. */
export const figuresOf = (
  budget: { readonly userId: UserId; readonly keyId: ApiKeyId | null; readonly period: BudgetPeriod },
  now: DateTime.Utc
) =>
  Effect.gen(function* () {
    const window = periodOf(budget.period, now)
    const sum = yield* UsageStats.total({
      userId: budget.userId,
      keyId: budget.keyId ?? undefined,
      startDate: window.start,
      endDate: addDays(window.end, -1)
    })
    const spent = sum.cost
    return { window, spent, projected: projectedSpend(spent, window, now) }
  })

const rowOf = (budget: Budgets.BudgetRecord, now: DateTime.Utc) =>
  Effect.map(
    figuresOf(budget, now),
    ({ window, spent, projected }) =>
      new BudgetRow({
        id: budget.id,
        scope: budget.scope,
        key_id: budget.keyId,
        amount: microsToUsd(budget.amount),
        period: budget.period,
        thresholds: budget.thresholds,
        spent: microsToUsd(spent),
        projected: microsToUsd(projected),
        period_start: DateTime.formatIso(window.startAt),
        period_end: DateTime.formatIso(window.endAt),
        created_at: budget.createdAt
      })
  )

/** Budgets: set, changed and deleted through the Budget decider; listed with their current period's figures. */
export class BudgetsService extends Effect.Service<BudgetsService>()("orw/App/Budgets", {
  effect: Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const sql = yield* SqlClient.SqlClient
    const onDatabase = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, SqlClient.SqlClient, sql)

    const row = (budgetId: BudgetId) =>
      Effect.gen(function* () {
        const found = yield* Budgets.byId(budgetId)
        if (Option.isNone(found)) return yield* new BudgetNotFound()
        return yield* rowOf(found.value, yield* DateTime.now)
      })

    const list = Effect.fn("Budgets.list")(function* (userId: UserId) {
      const now = yield* DateTime.now
      const budgets = yield* Budgets.ofUser(userId)
      return new BudgetList({ items: yield* Effect.forEach(budgets, (b) => rowOf(b, now)) })
    }, onDatabase)

    const create = Effect.fn("Budgets.create")(function* (userId: UserId, input: CreateBudgetRequest, origin: Origin) {
      const budgetId = BudgetId.make(NodeCrypto.randomUUID())
      const scope: BudgetScope = input.scope
      yield* dispatcher.dispatch(
        new BudgetCommands.CreateBudget({
          budgetId,
          userId,
          scope,
          keyId: input.key_id ?? null,
          amount: usdToMicros(input.amount),
          period: input.period,
          thresholds: input.thresholds ?? DEFAULT_THRESHOLDS,
          at: yield* DateTime.now
        }),
        { metadata: metadataOf(origin, userId) }
      )
      // Just created in this request: it is there (a concurrent delete would be a defect of this answer only).
      return yield* Effect.orDie(row(budgetId))
    }, onDatabase)

    const update = Effect.fn("Budgets.update")(function* (
      userId: UserId,
      budgetId: BudgetId,
      input: UpdateBudgetRequest,
      origin: Origin
    ) {
      yield* dispatcher.dispatch(
        new BudgetCommands.ChangeBudget({
          budgetId,
          userId,
          amount: input.amount === undefined ? undefined : usdToMicros(input.amount),
          thresholds: input.thresholds,
          at: yield* DateTime.now
        }),
        { metadata: metadataOf(origin, userId) }
      )
      return yield* row(budgetId)
    }, onDatabase)

    const remove = Effect.fn("Budgets.remove")(function* (userId: UserId, budgetId: BudgetId, origin: Origin) {
      yield* dispatcher.dispatch(new BudgetCommands.DeleteBudget({ budgetId, userId, at: yield* DateTime.now }), {
        metadata: metadataOf(origin, userId)
      })
    })

    return { list, create, update, remove } as const
  })
}) {}
