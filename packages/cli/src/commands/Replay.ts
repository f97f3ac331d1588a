import { Command, Options } from "@effect/cli"
import { EventStore } from "@orw/server/EventStore"
import { Effect, Option } from "effect"
import * as Database from "../Database.js"
import { BATCH } from "../EventLog.js"
import { CliError } from "../Failure.js"
import { printLines } from "../Output.js"
import { renderText, report } from "../ReplayReport.js"
import { applyEvent, emptySnapshot } from "../ReplayState.js"
import { parseTime, recordedMs } from "../Time.js"

const options = {
  until: Options.text("until").pipe(
    Options.withPseudoName("POSITION|TIME"),
    Options.withDescription(
      "Replay up to this log position (a whole number), or up to the last event recorded at or before " +
        "this ISO time or date (a date includes its whole day, UTC)"
    )
  ),
  user: Options.text("user").pipe(
    Options.withPseudoName("EMAIL"),
    Options.withDescription("Only the user(s) registered with this email"),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object instead of tables"))
}

type Bound = { readonly position: number } | { readonly time: number }

const parseBound = (text: string): Effect.Effect<Bound, CliError> =>
  /^\d+$/.test(text.trim())
    ? Effect.succeed({ position: Number(text.trim()) })
    : Effect.map(parseTime("--until", text, "end"), (time) => ({ time }))

/**
 * Folds the log from the start with the domain's evolve functions (no read table is
 * consulted) and stops at the first event past the bound.
 */
const fold = (bound: Bound) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const snapshot = emptySnapshot()
    let point: { position: number; recordedAt: string | null } = { position: 0, recordedAt: null }
    for (;;) {
      const batch = yield* store.readAll(point.position, BATCH)
      for (const stored of batch) {
        const past = "position" in bound ? stored.position > bound.position : recordedMs(stored.recordedAt) > bound.time
        if (past) return { snapshot, point }
        applyEvent(snapshot, stored.event)
        point = { position: stored.position, recordedAt: stored.recordedAt }
      }
      if (batch.length < BATCH) return { snapshot, point }
    }
  })

/** `orw replay`: the state of users' keys, tokens and usage as of a past point of the log. */
export const replay = Command.make("replay", options, (opts) =>
  Effect.gen(function* () {
    const bound = yield* parseBound(opts.until)
    const { snapshot, point } = yield* fold(bound)
    const email = Option.getOrUndefined(opts.user)
    const result = report(snapshot, point, email)
    if (email !== undefined && result.users.length === 0) {
      return yield* new CliError({ message: `No user registered with email ${email} as of position ${point.position}` })
    }
    yield* printLines(opts.json ? [JSON.stringify(result)] : renderText(result))
  })
).pipe(
  Command.withDescription("Replay the log up to a position or time and show users' keys, tokens and usage as of then"),
  Command.provide(Database.layer)
)
