import { Cause, Context, FiberRef, FiberRefs, HashMap, Inspectable, List, Logger, Option, Tracer } from "effect"

/** `requestId` → `request_id`: the JSON lines use snake_case keys, as the API does. */
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/** Values as JSON: Redacted prints `<redacted>` through its toJSON; anything else through Effect's inspector. */
const plain = (value: unknown): unknown => {
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? value.toString() : value
  try {
    return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)))
  } catch {
    return Inspectable.toStringUnknown(value)
  }
}

const text = (message: unknown) =>
  (Array.isArray(message) ? message : [message])
    .map((m) => (typeof m === "string" ? m : Inspectable.toStringUnknown(m)))
    .join(" ")

/**
 * One JSON object per line: `time`, `level`, `message`, the log annotations (`request_id`, `key_id`...),
 * the log spans' durations, and the current tracing span's name, ids and attributes (the annotations of
 * `Effect.fn`/`Effect.withSpan`), and `cause` when there is one. What it prints is only what the code
 * logged or annotated; Redacted values print as `<redacted>`.
 */
export const jsonLogger = Logger.make<unknown, string>(
  ({ logLevel, message, cause, context, spans, annotations, date }) => {
    const line: Record<string, unknown> = { time: date.toISOString(), level: logLevel.label, message: text(message) }
    for (const [key, value] of HashMap.toEntries(annotations)) line[snake(key)] = plain(value)
    const now = date.getTime()
    for (const span of List.toArray(spans)) line[`${snake(span.label)}_ms`] = now - span.startTime
    const span = Context.getOption(FiberRefs.getOrDefault(context, FiberRef.currentContext), Tracer.ParentSpan)
    if (Option.isSome(span)) {
      line.span = span.value._tag === "Span" ? span.value.name : undefined
      line.trace_id = span.value.traceId
      line.span_id = span.value.spanId
      if (span.value._tag === "Span") {
        for (const [key, value] of span.value.attributes) line[snake(key)] ??= plain(value)
      }
    }
    if (!Cause.isEmpty(cause)) line.cause = Cause.pretty(cause, { renderErrorCause: true })
    return JSON.stringify(line)
  }
)

/**
 * Lines on their way to stdout. A write to a pipe or file is a synchronous system call in Node, one per
 * line was one per request (the access log): lines are gathered and written once per turn of the event
 * loop (sooner past 64 KB), and whatever is left when the process exits, so none is lost on shutdown.
 */
const stdoutLines = (() => {
  const pending: Array<string> = []
  let bytes = 0
  let scheduled = false
  let hooked = false
  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const chunk = pending.join("")
    pending.length = 0
    bytes = 0
    process.stdout.write(chunk)
  }
  return (line: string) => {
    if (!hooked) {
      hooked = true
      process.on("exit", flush)
    }
    pending.push(line)
    bytes += line.length
    if (bytes >= 65_536) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
})()

/** {@link jsonLogger} writing its lines to stdout, buffered (see `stdoutLines`). */
export const json = Logger.replace(
  Logger.defaultLogger,
  Logger.map(jsonLogger, (line) => stdoutLines(`${line}\n`))
)

/** Readable text: coloured when a person watches the terminal, logfmt (no colour codes) into a pipe or file. */
export const readable = (isTTY: boolean) => (isTTY ? Logger.pretty : Logger.logFmt)

/** The server's logger: JSON lines for `json` (production's default), readable text otherwise. */
export const forFormat = (format: "json" | "text") =>
  format === "json" ? json : readable(process.stdout.isTTY === true)
