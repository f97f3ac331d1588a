import { isCalendarDay } from "@orw/domain"
import { Effect } from "effect"
import { CliError } from "./Failure.js"

const DATE = /^\d{4}-\d{2}-\d{2}$/
const ZONE = /(Z|[+-]\d{2}:?\d{2})$/i
const DAY_MS = 86_400_000

/**
 * Parses `--since`/`--until` style bounds to epoch milliseconds. An ISO time without a
 * zone is read as UTC. A bare date means the whole UTC day: its first millisecond for a
 * lower bound, its last for an upper bound, so `--since D --until D` is day D.
 */
export const parseTime = (flag: string, text: string, bound: "start" | "end") => {
  const trimmed = text.trim()
  // Date.parse rolls an impossible day over (2026-02-31 is read as March 3): check the calendar first.
  if (!isCalendarDay(trimmed.slice(0, 10))) {
    // falls through to the error below
  } else if (DATE.test(trimmed)) {
    const start = Date.parse(`${trimmed}T00:00:00Z`)
    if (Number.isFinite(start)) return Effect.succeed(bound === "start" ? start : start + DAY_MS - 1)
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) {
    const ms = Date.parse(ZONE.test(trimmed) ? trimmed : `${trimmed}Z`)
    if (Number.isFinite(ms)) return Effect.succeed(ms)
  }
  return Effect.fail(
    new CliError({
      message: `${flag} must be an ISO time (2026-01-31T12:00:00Z) or a date (2026-01-31), got "${text}"`
    })
  )
}

/** Epoch milliseconds of a stored `recorded_at`. */
export const recordedMs = (recordedAt: string): number => Date.parse(recordedAt)
