import { Command, Options } from "@effect/cli"
import { microsToUsd, type ReconciliationEvents } from "@orw/domain"
import type { Discrepancy } from "@orw/domain/Api"
import { originOf } from "@orw/server/App/Origin"
import * as Core from "@orw/server/Core"
import { KeySync } from "@orw/server/OpenRouter/KeySync"
import * as ApiKeys from "@orw/server/Projections/ApiKeys"
import * as Discrepancies from "@orw/server/Projections/Discrepancies"
import * as Settings from "@orw/server/Settings"
import * as Sync from "@orw/server/Sync"
import { DateTime, Effect, Layer, Option } from "effect"
import * as Database from "../Database.js"
import { CliError, describeError } from "../Failure.js"
import { printLines } from "../Output.js"

const json = Options.boolean("json").pipe(Options.withDescription("One JSON object per line"))

const asCliError = (error: unknown) =>
  error instanceof CliError ? error : new CliError({ message: describeError(error) })

const usd = (n: number) => `$${n.toFixed(6)}`

/** One finding as one readable line: when, which key, what, both figures and the difference. */
const describeFinding = (
  name: string,
  d: {
    readonly key_id: string
    readonly found_at: string
    readonly scope: string
    readonly date: string | null
    readonly model: string | null
    readonly recorded: number
    readonly upstream: number
  }
) => {
  const what = d.scope === "all-time" ? "all-time total" : `${d.date} ${d.model}`
  const diff = Math.round((d.upstream - d.recorded) * 1e6) / 1e6
  return (
    `${d.found_at}  ${d.key_id} (${name})  ${what}: recorded ${usd(d.recorded)}, OpenRouter ${usd(d.upstream)} ` +
    `(${diff >= 0 ? "+" : ""}${diff.toFixed(6)})`
  )
}

const fromEvent = (e: ReconciliationEvents.UsageDiscrepancyFound) => ({
  key_id: e.keyId,
  found_at: DateTime.formatIso(e.at),
  scope: e.scope,
  date: e.date,
  model: e.model,
  recorded: microsToUsd(e.recorded),
  upstream: microsToUsd(e.upstream)
})

const layer = Sync.layer.pipe(
  Layer.provideMerge(Database.onDatabase(Database.configuredDatabase, Core.layerDatabase)),
  Layer.provide(Settings.layer()),
  Layer.catchAll((error) => Layer.fail(asCliError(error)))
)

/**
 * `orw reconcile [--key ID] [--json]`: the daily reconciliation (openrouter-api.md, item 7) now, for one key or
 * every polled key: each discrepancy found is printed (and recorded, and healed), else "no new discrepancy".
 */
export const reconcile = Command.make(
  "reconcile",
  {
    key: Options.text("key").pipe(Options.withDescription("Reconcile only this key (its id)"), Options.optional),
    json
  },
  (opts) =>
    Effect.gen(function* () {
      const keySync = yield* KeySync
      const wanted = Option.getOrUndefined(opts.key)
      const chosen =
        wanted === undefined
          ? yield* ApiKeys.polled
          : yield* Effect.flatMap(ApiKeys.summaryById(wanted), (k) =>
              Option.isNone(k)
                ? new CliError({ message: `No stored key with id ${wanted}` })
                : Effect.succeed([k.value])
            )
      if (chosen.length === 0) return yield* printLines(opts.json ? [] : ["No keys to reconcile"])
      const origin = originOf("cli")
      let failed = 0
      for (const target of chosen) {
        const result = yield* keySync
          .reconcileKey(target.id, origin, "cli")
          .pipe(Effect.catchTag("KeyInactive", (refusal) => new CliError({ message: refusal.message })))
        if (result.outcome !== "ok") failed++
        const found = result.found.map(fromEvent)
        yield* printLines(
          opts.json
            ? [
                JSON.stringify({
                  key_id: target.id,
                  name: target.name,
                  outcome: result.outcome,
                  error: result.error,
                  discrepancies: found,
                  healed: result.healed
                })
              ]
            : result.outcome !== "ok"
              ? [`${target.id} (${target.name}): ${result.outcome} - ${result.error}`]
              : found.length === 0
                ? [`${target.id} (${target.name}): no new discrepancy with OpenRouter`]
                : [
                    ...found.map((d) => describeFinding(target.name, d)),
                    `${target.id} (${target.name}): ${found.length} discrepancies; ${result.healed} row(s) recorded again`
                  ]
        )
      }
      if (failed > 0) return yield* new CliError({ message: `${failed} of ${chosen.length} key(s) not reconciled` })
    }).pipe(Effect.mapError(asCliError))
).pipe(
  Command.withDescription("Compare recorded figures with OpenRouter's now, record and heal what differs"),
  Command.provide(layer)
)

/** `orw discrepancies [--key ID] [--json]`: every discrepancy the reconciliation found, oldest first, one a line. */
export const discrepancies = Command.make(
  "discrepancies",
  { key: Options.text("key").pipe(Options.withDescription("Only this key's (its id)"), Options.optional), json },
  (opts) =>
    Effect.gen(function* () {
      const rows: ReadonlyArray<Discrepancy> = yield* Discrepancies.list({ keyId: Option.getOrUndefined(opts.key) })
      const names = new Map((yield* ApiKeys.allSummaries).map((k) => [k.id as string, k.name]))
      if (rows.length === 0) return yield* printLines(opts.json ? [] : ["No discrepancies found"])
      yield* printLines(
        rows.map((d) => (opts.json ? JSON.stringify(d) : describeFinding(names.get(d.key_id) ?? "deleted key", d)))
      )
    }).pipe(Effect.mapError(asCliError))
).pipe(
  Command.withDescription("List the differences the daily reconciliation found (recorded vs OpenRouter)"),
  Command.provide(Database.layer)
)
