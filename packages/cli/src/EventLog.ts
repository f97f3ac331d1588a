import { DomainEvent, normalizeEmail, Streams } from "@orw/domain"
import type { StoredEvent } from "@orw/server/EventStore"
import { EventMetadata, EventStore } from "@orw/server/EventStore"
import { Effect, Schema } from "effect"
import { recordedMs } from "./Time.js"

/** Events read from the store per query: a big log streams through in pieces of this size. */
export const BATCH = 500

/** What `orw events list` narrows the log to; every bound is inclusive. */
export interface EventFilter {
  readonly stream: string | undefined
  readonly type: string | undefined
  readonly userEmail: string | undefined
  /** Epoch milliseconds, compared with `recorded_at`. */
  readonly since: number | undefined
  readonly until: number | undefined
  readonly from: number | undefined
  readonly to: number | undefined
  readonly limit: number | undefined
}

/** What the CLI shows in place of a secret. */
export const REDACTED = "[redacted]"

/** Fields whose values never leave the CLI, whatever they hold. */
const SECRET_FIELDS = new Set(["ciphertext", "passwordHash", "tokenHash"])

const redact = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(redact)
  if (typeof value !== "object" || value === null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, SECRET_FIELDS.has(key) ? REDACTED : redact(inner)])
  )
}

const encodeEvent = Schema.encodeSync(DomainEvent)
const encodeMetadata = Schema.encodeSync(EventMetadata)

/** The event's data as stored (encoded, without `_tag`), secrets redacted. */
export const eventData = (event: DomainEvent): Record<string, unknown> => {
  const { _tag, ...data } = encodeEvent(event)
  return redact(data) as Record<string, unknown>
}

/** The `orw events list --json` line of one event (design.md section 3). */
export const eventJson = (stored: StoredEvent) => ({
  position: stored.position,
  stream_id: stored.streamId,
  stream_version: stored.streamVersion,
  type: stored.type,
  schema_version: stored.schemaVersion,
  recorded_at: stored.recordedAt,
  metadata: encodeMetadata(stored.metadata),
  data: eventData(stored.event)
})

const userIdOf = (event: DomainEvent): string | undefined => ("userId" in event ? event.userId : undefined)

/**
 * Streams the events that pass `filter` to `emit`, one batch at a time, in log order.
 * With a user filter the scan starts at the beginning of the log whatever `from` says:
 * the user's ids are learnt from their `UserRegistered` events (the log, not the users
 * table, so deleted users are found too). Returns how many events matched and whether
 * the user, if one was asked for, was ever registered.
 */
export const scan = <E, R>(
  filter: EventFilter,
  emit: (batch: ReadonlyArray<StoredEvent>) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const email = filter.userEmail === undefined ? undefined : normalizeEmail(filter.userEmail)
    const emailStream = email === undefined ? undefined : Streams.email(email)
    const userIds = new Set<string>()
    const from = filter.from ?? 1
    const to = filter.to ?? Number.POSITIVE_INFINITY
    const limit = filter.limit ?? Number.POSITIVE_INFINITY
    const matches = (stored: StoredEvent): boolean => {
      const event = stored.event
      if (email !== undefined && event._tag === "UserRegistered" && normalizeEmail(event.email) === email) {
        userIds.add(event.userId)
      }
      if (stored.position < from || stored.position > to) return false
      if (filter.stream !== undefined && stored.streamId !== filter.stream) return false
      if (filter.type !== undefined && stored.type !== filter.type) return false
      if (email !== undefined) {
        const userId = userIdOf(event)
        if (stored.streamId !== emailStream && (userId === undefined || !userIds.has(userId))) return false
      }
      if (filter.since !== undefined || filter.until !== undefined) {
        const at = recordedMs(stored.recordedAt)
        if (filter.since !== undefined && at < filter.since) return false
        if (filter.until !== undefined && at > filter.until) return false
      }
      return true
    }
    let position = email === undefined ? from - 1 : 0
    let matched = 0
    while (position < to && matched < limit) {
      const batch = yield* store.readAll(position, BATCH)
      if (batch.length === 0) break
      position = batch.at(-1)!.position
      const selected = batch.filter(matches).slice(0, limit - matched)
      matched += selected.length
      if (selected.length > 0) yield* emit(selected)
    }
    return { matched, userFound: email === undefined || userIds.size > 0 }
  })
