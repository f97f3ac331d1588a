import { Data, Either, Equal, Match, Option } from "effect"
import type { ApiKeyState } from "../ApiKey/Decider.js"
import type { KeyStatus } from "../ApiKey/Events.js"
import { KeyStatusRecorded } from "../ApiKey/Events.js"
import { type InvalidUsage, KeyNotFound } from "../Errors.js"
import type { Micros } from "../Money.js"
import { RecordUsage } from "../Usage/Commands.js"
import { decideUsage, evolveUsage, type UsageContext, type UsageState } from "../Usage/Decider.js"
import { UNATTRIBUTED, type UsageRecorded } from "../Usage/Events.js"
import type { RecordActivity, RecordKeySnapshot, SyncCommand } from "./Commands.js"

/** The sync decides over the key (who owns it, its last status) and the key's usage totals. */
export type SyncContext = UsageContext

export type SyncEvent = KeyStatusRecorded | UsageRecorded
export type SyncDecideError = KeyNotFound | InvalidUsage
type Decision = Either.Either<ReadonlyArray<SyncEvent>, SyncDecideError>
type Present = Extract<ApiKeyState, { _tag: "Present" }>

const present = (key: ApiKeyState): Either.Either<Present, KeyNotFound> =>
  key._tag === "Present" ? Either.right(key) : Either.left(new KeyNotFound())

/** A status is recorded when it differs from the last one, or when it ends a failure streak. */
const statusChanged = (key: Present, status: KeyStatus): boolean =>
  key.status === null || !Equal.equals(Data.struct(key.status), Data.struct(status)) || key.failing

/**
 * Growth of all-time usage since the last recorded status, in micro-dollars. The first status is the
 * baseline (no growth), and a decrease is no growth either: OpenRouter's figure went down, we record nothing.
 */
const usageGrowth = (key: Present, status: KeyStatus): number =>
  key.status === null ? 0 : Math.max(0, status.usage - key.status.usage)

/**
 * When OpenRouter reports a lower all-time usage than the last recorded status, the two figures, else none.
 * The decision ignores a decrease; the caller logs it (deciders do no I/O).
 */
export const usageDecrease = (
  cmd: RecordKeySnapshot,
  ctx: SyncContext
): Option.Option<{ readonly previous: Micros; readonly current: Micros }> =>
  ctx.key._tag === "Present" && ctx.key.status !== null && cmd.status.usage < ctx.key.status.usage
    ? Option.some({ previous: ctx.key.status.usage, current: cmd.status.usage })
    : Option.none()

const recordKeySnapshot = (cmd: RecordKeySnapshot, ctx: SyncContext): Decision =>
  Either.gen(function* () {
    const key = yield* present(ctx.key)
    const status = statusChanged(key, cmd.status)
      ? [new KeyStatusRecorded({ keyId: key.keyId, userId: key.userId, status: cmd.status, at: cmd.at })]
      : []
    const growth = usageGrowth(key, cmd.status)
    if (growth === 0) return status
    // The growth is the day's usage not yet split by model: activity replaces it once the day has completed.
    const usage = yield* decideUsage(
      new RecordUsage({
        keyId: cmd.keyId,
        date: cmd.day,
        model: UNATTRIBUTED,
        mode: "increment",
        figures: { requests: 0, tokensInput: 0, tokensOutput: 0, cost: growth, byokCost: 0 },
        at: cmd.at
      }),
      ctx
    )
    return [...status, ...usage]
  })

/** Each (date, model) is decided on the totals the rows before it left, so a repeated row is exact too. */
const recordActivity = (cmd: RecordActivity, ctx: SyncContext): Decision =>
  Either.gen(function* () {
    yield* present(ctx.key)
    let usage: UsageState = ctx.usage
    const events: Array<UsageRecorded> = []
    for (const { date, model, ...figures } of cmd.totals) {
      const command = new RecordUsage({ keyId: cmd.keyId, date, model, mode: "absolute", figures, at: cmd.at })
      const decided = yield* decideUsage(command, { key: ctx.key, usage })
      usage = decided.reduce(evolveUsage, usage)
      events.push(...decided)
    }
    return events
  })

/**
 * Decides what a sync learned from OpenRouter (openrouter-api.md, "What the sync records"): nothing new
 * decides no event; a deleted key takes none (KeyNotFound); figures that break the usage rules are
 * InvalidUsage and record nothing of the command.
 */
export const decideSync = (cmd: SyncCommand, ctx: SyncContext): Decision =>
  Match.value(cmd).pipe(
    Match.tagsExhaustive({
      RecordKeySnapshot: (c) => recordKeySnapshot(c, ctx),
      RecordActivity: (c) => recordActivity(c, ctx)
    })
  )
