import { Args, Command, Options } from "@effect/cli"
import { Projector } from "@orw/server/Projector"
import { Effect, Option } from "effect"
import * as Database from "../Database.js"
import { missingSubcommand } from "../Failure.js"
import { printLines, table } from "../Output.js"

const json = Options.boolean("json").pipe(Options.withDescription("One JSON object per projection and line"))

/** `orw projections status`: how far each read model has caught up with the log. */
export const status = Command.make("status", { json }, (opts) =>
  Effect.gen(function* () {
    const projector = yield* Projector
    const rows = yield* projector.status
    yield* printLines(
      opts.json
        ? rows.map((r) =>
            JSON.stringify({
              name: r.name,
              code_version: r.codeVersion,
              stored_version: r.storedVersion,
              position: r.position,
              head: r.head,
              lag: r.lag
            })
          )
        : table(
            ["NAME", "CODE VERSION", "STORED VERSION", "CHECKPOINT", "HEAD", "LAG"],
            rows.map((r) => [
              r.name,
              String(r.codeVersion),
              r.storedVersion === null ? "-" : String(r.storedVersion),
              String(r.position),
              String(r.head),
              String(r.lag)
            ])
          )
    )
  })
).pipe(
  Command.withDescription("Show each projection's versions, checkpoint and lag behind the log"),
  Command.provide(Database.layer)
)

const name = Args.text({ name: "name" }).pipe(
  Args.withDescription("The projection to rebuild (all when omitted)"),
  Args.optional
)

/** `orw projections rebuild [NAME]`: replays the whole log into fresh tables and swaps them in. */
export const rebuild = Command.make("rebuild", { name }, (opts) =>
  Effect.gen(function* () {
    const projector = yield* Projector
    const done = yield* projector.rebuild(Option.getOrUndefined(opts.name))
    yield* printLines(done.map((d) => `Rebuilt ${d.name} up to position ${d.position}`))
  })
).pipe(
  Command.withDescription("Rebuild a projection (or all) from the whole log into a fresh table, then swap it in"),
  Command.provide(Database.layer)
)

/** `orw projections`: the read models. */
export const projections = Command.make("projections", {}, () =>
  missingSubcommand("orw projections", "status, rebuild")
).pipe(Command.withDescription("Inspect and rebuild the read models"), Command.withSubcommands([status, rebuild]))
