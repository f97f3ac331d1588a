import { Either, HashMap, Option } from "effect"
import type { ApiKeyState } from "../ApiKey/Decider.js"
import { type CommandRejections, InvalidUsage, KeyNotFound } from "../Errors.js"
import type { Micros } from "../Money.js"
import type { RecordUsage } from "./Commands.js"
import type { UsageTotals } from "./Events.js"
import { UsageRecorded } from "./Events.js"

/**
 * Totals per `date|model` of one key, and the same totals indexed by date (then model), so that a
 * decision about a few days (a budget's period, the spike rule's week) reads those days, not the key's
 * whole history.
 */
export type UsageState = {
  readonly totals: HashMap.HashMap<string, UsageTotals>
  readonly byDate: HashMap.HashMap<string, HashMap.HashMap<string, UsageTotals>>
}

export const initialUsageState = (): UsageState => ({ totals: HashMap.empty(), byDate: HashMap.empty() })

const slot = (date: string, model: string) => `${date}|${model}`

const withTotals = (state: UsageState, date: string, model: string, totals: UsageTotals): UsageState => ({
  totals: HashMap.set(state.totals, slot(date, model), totals),
  byDate: HashMap.set(
    state.byDate,
    date,
    HashMap.set(
      Option.getOrElse(HashMap.get(state.byDate, date), () => HashMap.empty<string, UsageTotals>()),
      model,
      totals
    )
  )
})

export const evolveUsage = (state: UsageState, event: UsageRecorded): UsageState =>
  withTotals(state, event.date, event.model, event.totals)

/** A usage state holding these totals per `date|model` slot (tests, tools that build one without events). */
export const usageStateOf = (slots: Iterable<readonly [string, UsageTotals]>): UsageState => {
  let state = initialUsageState()
  for (const [key, totals] of slots) {
    const cut = key.indexOf("|")
    state = withTotals(state, key.slice(0, cut), key.slice(cut + 1), totals)
  }
  return state
}

export interface UsageContext {
  readonly key: ApiKeyState
  readonly usage: UsageState
}

const zero: UsageTotals = { requests: 0, tokensInput: 0, tokensOutput: 0, cost: 0 as Micros, byokCost: 0 as Micros }

const sameTotals = (a: UsageTotals, b: UsageTotals) =>
  a.requests === b.requests &&
  a.tokensInput === b.tokensInput &&
  a.tokensOutput === b.tokensOutput &&
  a.cost === b.cost &&
  a.byokCost === b.byokCost

const checkFigures = (cmd: RecordUsage): InvalidUsage | null => {
  for (const [name, value] of Object.entries(cmd.figures)) {
    if (!Number.isSafeInteger(value)) return new InvalidUsage({ reason: `${name} must be a whole number` })
    if (value < 0) return new InvalidUsage({ reason: `${name} must not be negative` })
  }
  if (cmd.model.trim() === "" || cmd.model.length > 200) return new InvalidUsage({ reason: "model must be named" })
  return null
}

/** Usage totals never go negative; unchanged totals decide no event; a deleted key takes none. */
export const decideUsage = (
  cmd: RecordUsage,
  ctx: UsageContext
): Either.Either<ReadonlyArray<UsageRecorded>, CommandRejections["RecordUsage"]> => {
  if (ctx.key._tag !== "Present") return Either.left(new KeyNotFound())
  const invalid = checkFigures(cmd)
  if (invalid) return Either.left(invalid)
  const current = Option.getOrElse(HashMap.get(ctx.usage.totals, slot(cmd.date, cmd.model)), () => zero)
  const f = cmd.figures
  const next: UsageTotals =
    cmd.mode === "absolute"
      ? { ...f, cost: f.cost as Micros, byokCost: f.byokCost as Micros }
      : {
          requests: current.requests + f.requests,
          tokensInput: current.tokensInput + f.tokensInput,
          tokensOutput: current.tokensOutput + f.tokensOutput,
          cost: (current.cost + f.cost) as Micros,
          byokCost: (current.byokCost + f.byokCost) as Micros
        }
  if (!Object.values(next).every(Number.isSafeInteger)) {
    return Either.left(new InvalidUsage({ reason: "totals would exceed the largest exact number" }))
  }
  if (sameTotals(current, next)) return Either.right([])
  const { keyId, userId } = ctx.key
  // Made of checked values only (the command's, the key's, totals checked whole above), and encoded against the
  // event's schema again when it is appended: not validated a second time here, on every usage command.
  return Either.right([
    new UsageRecorded(
      { keyId, userId, date: cmd.date, model: cmd.model, totals: next, at: cmd.at },
      { disableValidation: true }
    )
  ])
}
