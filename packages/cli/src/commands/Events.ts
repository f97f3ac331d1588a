import { Command, Options } from "@effect/cli"
import type { StoredEvent } from "@orw/server/EventStore"
import { Effect, Option } from "effect"
import * as Database from "../Database.js"
import { eventData, eventJson, REDACTED, scan } from "../EventLog.js"
import { CliError, missingSubcommand } from "../Failure.js"
import { printLines, tableWriter } from "../Output.js"
import { parseTime } from "../Time.js"

const text = (name: string, pseudo: string, description: string) =>
  Options.text(name).pipe(Options.withPseudoName(pseudo), Options.withDescription(description), Options.optional)
const integer = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withPseudoName("N"), Options.withDescription(description), Options.optional)

const options = {
  stream: text("stream", "STREAM", "Only events of this stream (e.g. user-<id>, key-<id>, email-<address>)"),
  type: text("type", "TYPE", "Only events of this type (e.g. KeyAdded)"),
  user: text("user", "EMAIL", "Only events of the user(s) ever registered with this email, deleted users included"),
  since: text("since", "TIME", "Only events recorded at or after this ISO time or date (UTC)"),
  until: text(
    "until",
    "TIME",
    "Only events recorded at or before this ISO time or date (a date includes its whole day)"
  ),
  from: integer("from", "First log position (inclusive)"),
  to: integer("to", "Last log position (inclusive)"),
  limit: integer("limit", "Print at most this many events (default: all)"),
  json: Options.boolean("json").pipe(Options.withDescription("One JSON object per line instead of a table"))
}

const atLeast = (flag: string, value: Option.Option<number>, min: number) =>
  Option.isSome(value) && value.value < min
    ? Effect.fail(new CliError({ message: `${flag} must be at least ${min}, got ${value.value}` }))
    : Effect.succeed(Option.getOrUndefined(value))

const optionalTime = (flag: string, value: Option.Option<string>, bound: "start" | "end") =>
  Option.isSome(value) ? parseTime(flag, value.value, bound) : Effect.succeed(undefined)

const SUMMARY_WIDTH = 100

/** The data column: `field=value` pairs, without the event time (TIME has it) and redacted fields. */
const summary = (stored: StoredEvent): string => {
  const { at: _at, ...data } = eventData(stored.event)
  const text = Object.entries(data)
    .filter(([, value]) => value !== REDACTED)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ")
  return text.length > SUMMARY_WIDTH ? `${text.slice(0, SUMMARY_WIDTH - 3)}...` : text
}

const row = (stored: StoredEvent): Array<string> => [
  String(stored.position),
  stored.streamId,
  String(stored.streamVersion),
  stored.type,
  stored.recordedAt,
  stored.metadata.actor === null ? stored.metadata.source : `${stored.metadata.source}:${stored.metadata.actor}`,
  summary(stored)
]

/** `orw events list`: the audit log, filtered, as a table or JSON lines. */
export const list = Command.make("list", options, (opts) =>
  Effect.gen(function* () {
    const filter = {
      stream: Option.getOrUndefined(opts.stream),
      type: Option.getOrUndefined(opts.type),
      userEmail: Option.getOrUndefined(opts.user),
      since: yield* optionalTime("--since", opts.since, "start"),
      until: yield* optionalTime("--until", opts.until, "end"),
      from: yield* atLeast("--from", opts.from, 1),
      to: yield* atLeast("--to", opts.to, 0),
      limit: yield* atLeast("--limit", opts.limit, 0)
    }
    const writeTable = tableWriter(["POSITION", "STREAM", "VERSION", "TYPE", "TIME", "ACTOR", "DATA"])
    const { matched, userFound } = yield* scan(filter, (batch) =>
      printLines(opts.json ? batch.map((e) => JSON.stringify(eventJson(e))) : writeTable(batch.map(row)))
    )
    if (!userFound) {
      return yield* new CliError({ message: `No user was ever registered with email ${filter.userEmail}` })
    }
    if (matched === 0 && !opts.json) yield* printLines(["No matching events"])
  })
).pipe(
  Command.withDescription("List the audit log (the event store), filtered, as a table or JSON lines"),
  Command.provide(Database.layer)
)

/** `orw events`: the audit log. */
export const events = Command.make("events", {}, () => missingSubcommand("orw events", "list")).pipe(
  Command.withDescription("Read the audit log"),
  Command.withSubcommands([list])
)
