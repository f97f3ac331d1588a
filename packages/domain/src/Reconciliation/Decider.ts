import { Either, HashMap } from "effect"
import type { ApiKeyState } from "../ApiKey/Decider.js"
import type { ApiKeyEvent } from "../ApiKey/Events.js"
import { type InvalidUsage, KeyNotFound } from "../Errors.js"
import type { UtcDate } from "../Ids.js"
import type { Micros } from "../Money.js"
import { RecordUsage } from "../Usage/Commands.js"
import { decideUsage, evolveUsage, type UsageState } from "../Usage/Decider.js"
import { UNATTRIBUTED, type UsageRecorded, type UsageTotals } from "../Usage/Events.js"
import type { ReconcileUsage } from "./Commands.js"
import { UsageDiscrepancyFound } from "./Events.js"

/** A difference of more than this many micro-dollars is a discrepancy ($0.000001). */
export const DISCREPANCY_MICROS = 1

/** The key's baseline: the all-time usage of its first recorded `/key` status (for which no usage was recorded). */
export type Baseline = Micros | null
export const initialBaseline = (): Baseline => null
export const evolveBaseline = (baseline: Baseline, event: ApiKeyEvent): Baseline =>
  baseline ?? (event._tag === "KeyStatusRecorded" ? event.status.usage : null)

/** What the reconciliation of a key remembers: the gap (upstream − recorded) of the last all-time discrepancy. */
export interface DiscrepancyState {
  readonly lastAllTimeGap: number | null
}
export const initialDiscrepancyState = (): DiscrepancyState => ({ lastAllTimeGap: null })
export const evolveDiscrepancy = (state: DiscrepancyState, event: UsageDiscrepancyFound): DiscrepancyState =>
  event.scope === "all-time" ? { lastAllTimeGap: event.upstream - event.recorded } : state

export interface ReconcileContext {
  readonly key: ApiKeyState
  readonly usage: UsageState
  readonly baseline: Baseline
  readonly discrepancies: DiscrepancyState
}

export type ReconcileEvent = UsageDiscrepancyFound | UsageRecorded
export type ReconcileDecideError = KeyNotFound | InvalidUsage

interface Line {
  readonly date: string
  readonly model: string
  readonly totals: UsageTotals
}

const linesOf = (usage: UsageState): ReadonlyArray<Line> =>
  [...HashMap.entries(usage.totals)].map(([slot, totals]) => {
    const cut = slot.indexOf("|")
    return { date: slot.slice(0, cut), model: slot.slice(cut + 1), totals }
  })

/**
 * The all-time comparison, on the usage as recorded after the pass healed the days. What "recorded" means:
 *
 * - A key whose figures are split per model (it has per-model rows of completed days: a management key took
 *   them from activity and the year of analytics): the sum of its effective rows of completed days (the supersede rule, the total
 *   every screen shows) plus OpenRouter's own `usage_daily` for today, against OpenRouter's all-time `usage` of
 *   the same snapshot; i.e. completed days are checked, today's figures (estimates: hourly analytics or growth
 *   since the last snapshot) are not. The baseline is not added: the imported history already covers the time
 *   before the first snapshot (adding it counted that time twice). A key older than OpenRouter's history keeps a
 *   standing gap: reported once (see `decideReconcile`), not daily.
 * - A key known only through `/key` (no per-model row of a completed day): the baseline (the first snapshot's
 *   all-time usage, which recorded no usage of its own) plus every `unattributed` row, superseded or not (the
 *   growth since, as recorded), against `usage`.
 *   Equal by construction, unless OpenRouter's figure went down (a decrease records nothing).
 *
 * Rounding: each per-model row is OpenRouter's figure of its (date, model) rounded once to the micro-dollar,
 * OpenRouter's all-time once over everything, so their sums differ by up to half a micro-dollar per row with no
 * error anywhere (a year of a busy key: tens of micro-dollars). The per-model check allows that bound on top of
 * {@link DISCREPANCY_MICROS}; unattributed rows are differences of rounded snapshots, exact.
 */
export const allTimeCheck = (
  usage: UsageState,
  status: { readonly usage: number; readonly usageDaily: number },
  baseline: Baseline,
  today: string
): { readonly recorded: number; readonly upstream: number; readonly tolerance: number } => {
  const lines = linesOf(usage)
  const split = new Set(lines.filter((l) => l.model !== UNATTRIBUTED && l.date < today).map((l) => l.date))
  if (split.size === 0) {
    const growth = lines.filter((l) => l.model === UNATTRIBUTED).reduce((n, l) => n + l.totals.cost, 0)
    return { recorded: (baseline ?? 0) + growth, upstream: status.usage, tolerance: DISCREPANCY_MICROS }
  }
  const completed = lines.filter((l) => l.date < today && (l.model !== UNATTRIBUTED || !split.has(l.date)))
  const recorded = completed.reduce((n, l) => n + l.totals.cost, 0) + status.usageDaily
  const rows = completed.filter((l) => l.model !== UNATTRIBUTED).length
  return { recorded, upstream: status.usage, tolerance: DISCREPANCY_MICROS + Math.ceil(rows / 2) }
}

const zero = { requests: 0, tokensInput: 0, tokensOutput: 0, cost: 0, byokCost: 0 }

/**
 * Decides a reconciliation pass (openrouter-api.md, item 7):
 * 1. each (date, model) of the completed days OpenRouter reported (`activity`), and each per-model row we
 *    recorded for those days, is compared by cost: more than a micro-dollar apart is a `day` discrepancy with
 *    both figures. Days known only as `unattributed` growth are estimates, not compared (activity replaces them).
 * 2. OpenRouter's figures of those days are recorded again as absolute totals (a (date, model) it no longer
 *    reports is recorded as zero), so the figures heal: a second pass finds nothing.
 * 3. the all-time check ({@link allTimeCheck}) on the healed figures: beyond its tolerance, an `all-time`
 *    discrepancy, unless the last one reported the same gap (within the tolerance): a standing gap, such as usage
 *    older than OpenRouter's history, is reported once, not every day.
 * A key without a recorded status has nothing to compare: no event.
 */
export const decideReconcile = (
  cmd: ReconcileUsage,
  ctx: ReconcileContext
): Either.Either<ReadonlyArray<ReconcileEvent>, ReconcileDecideError> =>
  Either.gen(function* () {
    const key = ctx.key
    if (key._tag !== "Present") return yield* Either.left(new KeyNotFound())
    if (key.status === null) return []
    const found: Array<UsageDiscrepancyFound> = []
    const healed: Array<UsageRecorded> = []
    const finding = (scope: "day" | "all-time", date: string | null, model: string | null, r: number, u: number) =>
      new UsageDiscrepancyFound({
        keyId: key.keyId,
        userId: key.userId,
        scope,
        date: date as UtcDate | null,
        model,
        recorded: r as Micros,
        upstream: u as Micros,
        at: cmd.at
      })
    let usage = ctx.usage
    if (cmd.activity !== null) {
      const { from, to, totals } = cmd.activity
      const inWindow = (date: string) => date >= from && date <= to && date < cmd.today
      const upstream = new Map(totals.filter((t) => inWindow(t.date)).map((t) => [`${t.date}|${t.model}`, t]))
      const recorded = new Map(
        linesOf(usage)
          .filter((l) => l.model !== UNATTRIBUTED && inWindow(l.date))
          .map((l) => [`${l.date}|${l.model}`, l])
      )
      const slots = [...new Set([...upstream.keys(), ...recorded.keys()])].sort()
      for (const slot of slots) {
        const up = upstream.get(slot)
        const rec = recorded.get(slot)
        const [date, model] = [up?.date ?? rec?.date ?? "", up?.model ?? rec?.model ?? ""]
        const r = rec?.totals.cost ?? 0
        const u = up?.cost ?? 0
        if (Math.abs(r - u) > DISCREPANCY_MICROS) found.push(finding("day", date, model, r, u))
        const { date: _d, model: _m, ...figures } = up ?? { date, model, ...zero }
        const command = new RecordUsage({
          keyId: cmd.keyId,
          date: date as UtcDate,
          model,
          mode: "absolute",
          figures,
          at: cmd.at
        })
        const decided = yield* decideUsage(command, { key, usage })
        usage = decided.reduce(evolveUsage, usage)
        healed.push(...decided)
      }
    }
    const check = allTimeCheck(usage, key.status, ctx.baseline, cmd.today)
    const gap = check.upstream - check.recorded
    const last = ctx.discrepancies.lastAllTimeGap
    if (Math.abs(gap) > check.tolerance && (last === null || Math.abs(gap - last) > check.tolerance)) {
      found.push(finding("all-time", null, null, Math.max(0, check.recorded), Math.max(0, check.upstream)))
    }
    return [...found, ...healed]
  })
