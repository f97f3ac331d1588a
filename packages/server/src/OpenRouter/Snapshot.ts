import {
  ApiKeyCommands,
  type ApiKeyEvents,
  type ApiKeyId,
  type DomainEvent,
  decideApiKey,
  decideUsage,
  evolveApiKey,
  evolveUsage,
  initialApiKeyState,
  initialUsageState,
  initialUserState,
  KeyNotFound,
  type Micros,
  Streams,
  UsageCommands,
  UsageEvents,
  type UsageState,
  type UtcDate,
  usdToMicros
} from "@orw/domain"
import { type DateTime, Effect, Either } from "effect"
import type { Load } from "../CommandHandler.js"
import type { KeyInfo } from "./Schemas.js"

type KeyStatus = ApiKeyEvents.KeyStatus

const { UNATTRIBUTED } = UsageEvents

/** OpenRouter's `GET /key` figures as the domain records them (micro-dollars). */
export const toKeyStatus = (info: KeyInfo): KeyStatus => ({
  label: info.label,
  limit: info.limit === null ? null : usdToMicros(info.limit),
  limitRemaining: info.limit_remaining === null ? null : usdToMicros(info.limit_remaining),
  limitReset: info.limit_reset,
  usage: usdToMicros(Math.max(0, info.usage)),
  usageDaily: usdToMicros(Math.max(0, info.usage_daily)),
  usageWeekly: usdToMicros(Math.max(0, info.usage_weekly)),
  usageMonthly: usdToMicros(Math.max(0, info.usage_monthly)),
  isManagementKey: info.is_management_key,
  expiresAt: info.expires_at
})

const orFail = <A, E>(either: Either.Either<A, E>) =>
  Either.match(either, { onLeft: Effect.fail, onRight: Effect.succeed })

/**
 * One decision over the key's stream and its usage stream, so the status and the usage it
 * implies commit together: the growth of all-time `usage` since the last recorded status
 * is `unattributed` usage of the snapshot's UTC day; the first status is the baseline; a
 * decrease records nothing (it is logged).
 */
export const decideSnapshot = (keyId: ApiKeyId, status: KeyStatus, at: DateTime.Utc, day: UtcDate) => (load: Load) =>
  Effect.gen(function* () {
    const key = yield* load(Streams.key(keyId), initialApiKeyState, evolveApiKey)
    const usage = yield* load(Streams.usage(keyId), initialUsageState, evolveUsage)
    if (key._tag !== "Present") return yield* new KeyNotFound()
    const events: Array<DomainEvent> = [
      ...(yield* orFail(
        decideApiKey(new ApiKeyCommands.RecordKeyStatus({ keyId, status, at }), { user: initialUserState(), key })
      ))
    ]
    const previous = key.status
    const delta = previous === null ? 0 : status.usage - previous.usage
    if (delta < 0) {
      yield* Effect.logWarning("OpenRouter reported a lower all-time usage than before; ignored").pipe(
        Effect.annotateLogs({ keyId, previousMicros: previous?.usage, currentMicros: status.usage })
      )
    }
    if (delta > 0) {
      const figures = { requests: 0, tokensInput: 0, tokensOutput: 0, cost: delta, byokCost: 0 }
      const command = new UsageCommands.RecordUsage({
        keyId,
        date: day,
        model: UNATTRIBUTED,
        mode: "increment",
        figures,
        at
      })
      events.push(...(yield* orFail(decideUsage(command, { key, usage }))))
    }
    return { events, result: events }
  })

/** Activity totals of one (date, model). */
export interface DayModelTotals {
  readonly date: UtcDate
  readonly model: string
  readonly requests: number
  readonly tokensInput: number
  readonly tokensOutput: number
  readonly cost: Micros
  readonly byokCost: Micros
}

/** Absolute totals per (key, date, model), each recorded only when it differs from what is recorded. */
export const decideActivity =
  (keyId: ApiKeyId, totals: ReadonlyArray<DayModelTotals>, at: DateTime.Utc) => (load: Load) =>
    Effect.gen(function* () {
      const key = yield* load(Streams.key(keyId), initialApiKeyState, evolveApiKey)
      let usage: UsageState = yield* load(Streams.usage(keyId), initialUsageState, evolveUsage)
      const events: Array<DomainEvent> = []
      for (const { date, model, ...figures } of totals) {
        const command = new UsageCommands.RecordUsage({ keyId, date, model, mode: "absolute", figures, at })
        const decided = yield* orFail(decideUsage(command, { key, usage }))
        for (const event of decided) usage = evolveUsage(usage, event)
        events.push(...decided)
      }
      return { events, result: events }
    })
