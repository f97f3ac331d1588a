import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { EventStore } from "../EventStore.js"

/** How many answers are kept (least recently used go first); a year's /stats answer is ~5 KB. */
const CAPACITY = 512

/**
 * Answers of the read side kept per (user, query) and tagged with the log head they were computed at:
 * read tables change only with the log (inline projections), so while the head has not moved the
 * answer is the same and a lookup costs one `MAX(position)` instead of a scan of the user's usage.
 *
 * SQLite only. There one writer commits at a time, in position order, so the head names exactly the
 * events a reader sees. On PostgreSQL concurrent appends can commit out of position order (a lower
 * position becoming visible after a higher one), so the head does not name what is visible and the
 * cache is off: every read goes to the database.
 */
export class ReadCache extends Effect.Service<ReadCache>()("orw/App/ReadCache", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const store = yield* EventStore
    const enabled = sql.onDialectOrElse({ sqlite: () => true, orElse: () => false })
    const entries = new Map<string, { readonly head: number; readonly value: unknown }>()

    /** `compute`'s answer for `key` (which must name the user and every input of the answer). */
    const cached = <A, E, R>(key: string, compute: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      !enabled
        ? compute
        : Effect.flatMap(store.head, (head) => {
            const hit = entries.get(key)
            if (hit !== undefined && hit.head === head) {
              entries.delete(key)
              entries.set(key, hit)
              return Effect.succeed(hit.value as A)
            }
            // The head is read before the answer: an append in between makes the entry look older than
            // it is (recomputed once more), never newer.
            return Effect.tap(compute, (value) =>
              Effect.sync(() => {
                entries.delete(key)
                entries.set(key, { head, value })
                if (entries.size > CAPACITY) {
                  const oldest = entries.keys().next()
                  if (oldest.done !== true) entries.delete(oldest.value)
                }
              })
            )
          })
    return { cached, enabled }
  })
}) {}
