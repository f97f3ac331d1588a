import { Cause, Effect, Option, Schema } from "effect"

/** A failure the CLI reports as one line on stderr before exiting non-zero. */
export class CliError extends Schema.TaggedError<CliError>()("CliError", {
  message: Schema.String
}) {}

/** The handler of a command group run without a subcommand. */
export const missingSubcommand = (command: string, choices: string) =>
  Effect.fail(new CliError({ message: `missing subcommand, one of: ${choices} (see ${command} --help)` }))

const messageOf = (value: unknown): string | undefined =>
  typeof value === "object" && value !== null && "message" in value && typeof value.message === "string"
    ? value.message
    : typeof value === "string"
      ? value
      : undefined

/**
 * The most telling message of an error: SqlError and friends wrap the driver's error
 * (`database is locked`, `file is not a database`) in a generic one, so the innermost
 * message wins.
 */
export const describeError = (error: unknown): string => {
  let message = messageOf(error)
  let current: unknown = error
  for (let depth = 0; depth < 10; depth++) {
    const cause: unknown = typeof current === "object" && current !== null && "cause" in current ? current.cause : null
    const inner = messageOf(cause)
    if (inner === undefined || inner === "") break
    message = inner
    current = cause
  }
  const text = (message ?? String(error)).split("\n")[0]?.trim()
  return text === undefined || text === "" ? "unexpected error" : text
}

/** One line for a whole cause: the first failure, else the first defect. */
export const describeCause = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return describeError(failure.value)
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect)) return describeError(defect.value)
  return Cause.isInterruptedOnly(cause) ? "interrupted" : describeError(Cause.squash(cause))
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g")

/** Console arguments as one plain line: colours stripped, blank lines dropped, lines joined. */
export const oneLine = (args: ReadonlyArray<unknown>): string =>
  args
    .map(String)
    .join(" ")
    .replace(ANSI, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .join(" ")
