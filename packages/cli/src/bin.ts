import { ValidationError } from "@effect/cli"
// Deep imports: the package index pulls in the HTTP server, workers and more, which costs seconds at start.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Logger, Option } from "effect"
import { run } from "./Cli.js"
import { describeCause, oneLine } from "./Failure.js"

// `orw events list --json | head` closes the pipe early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

/** @effect/cli prints usage errors itself (as a help document): keep them to one `orw:` line. */
const oneLineUsageErrors = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.console, (console) =>
    Effect.withConsole(effect, { ...console, error: (...args) => console.error(`orw: ${oneLine(args)}`) })
  )

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")
const plain = (args: ReadonlyArray<unknown>) => args.map((a) => (typeof a === "string" ? a.replace(ANSI, "") : a))

/**
 * stdout is the command's output only (`orw sync --json | jq` parses every line), without colour codes when
 * it is not a terminal (`orw --help | cat`); log lines go to stderr as logfmt.
 */
const cleanOutput = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.console, (console) =>
    Effect.withConsole(
      effect,
      process.stdout.isTTY ? console : { ...console, log: (...args) => console.log(...plain(args)) }
    )
  ).pipe(
    Effect.provide(
      Logger.replace(
        Logger.defaultLogger,
        Logger.map(Logger.logfmtLogger, (line) => {
          process.stderr.write(`${line}\n`)
        })
      )
    )
  )

/** Every failure ends as one line on stderr and exit code 1. */
const reportFailure = (cause: Cause.Cause<unknown>) => {
  const failure = Cause.failureOption(cause)
  const printed = Option.isSome(failure) && ValidationError.isValidationError(failure.value)
  return Effect.zipRight(printed ? Effect.void : Console.error(`orw: ${describeCause(cause)}`), Effect.failCause(cause))
}

run(process.argv).pipe(
  oneLineUsageErrors,
  cleanOutput,
  Effect.catchAllCause(reportFailure),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
)
