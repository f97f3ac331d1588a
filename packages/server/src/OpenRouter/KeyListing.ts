import { Clock, Duration, Effect } from "effect"
import type { OpenRouterError } from "./Errors.js"
import type { KeyListItem } from "./Schemas.js"

/** How OpenRouter names a stored key in its `GET /keys` list. */
export interface ListedAs {
  readonly keyHash: string
  readonly label: string
}

/**
 * The hash OpenRouter lists `key` under (openrouter-api.md, "What the sync records", item 2): the key's
 * SHA-256 when it is listed, else the one entry with its label; `undefined` when neither.
 */
export const hashIn = (listed: ReadonlyArray<KeyListItem>, key: ListedAs): string | undefined => {
  const byLabel = listed.filter((k) => k.label === key.label)
  return listed.find((k) => k.hash === key.keyHash)?.hash ?? (byLabel.length === 1 ? byLabel[0]?.hash : undefined)
}

interface Entry {
  readonly fetchedAt: number
  readonly listing: Effect.Effect<ReadonlyArray<KeyListItem>, OpenRouterError>
}

/**
 * The account's key list, read once per sync pass and shared by the keys of that pass: one entry per
 * management key (by its stored id), reused for `ttl` after it was fetched. Without it every key's sync
 * read every page of `GET /keys`, so a pass cost keys² calls (13,002 for 1,000 keys).
 *
 * - Concurrent syncs of one account wait for the same fetch (single flight); a failed fetch is not kept.
 * - A key the kept list does not name (added upstream since) makes one fresh read, unless the list was
 *   read during this very lookup: a new key is mapped on its first sync, as before.
 * - A SHA-256 match never goes stale (a key's hash is fixed); a mapping by label may be up to `ttl` old.
 */
export const makeKeyListing = (ttl: Duration.Duration) => {
  const entries = new Map<string, Entry>()
  const ttlMillis = Duration.toMillis(ttl)

  /** The entry for `managerId`: the kept one when fresh and fetched after `newerThan`, else a new fetch. */
  const entry = <R>(
    managerId: string,
    fetch: Effect.Effect<ReadonlyArray<KeyListItem>, OpenRouterError, R>,
    newerThan: number | undefined
  ) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const kept = entries.get(managerId)
      if (
        kept !== undefined &&
        now - kept.fetchedAt < ttlMillis &&
        (newerThan === undefined || kept.fetchedAt > newerThan)
      ) {
        return { entry: kept, fresh: false }
      }
      const context = yield* Effect.context<R>()
      const listing = yield* Effect.cached(
        Effect.provide(fetch, context).pipe(
          Effect.tapError(() =>
            Effect.sync(() => {
              if (entries.get(managerId)?.listing === listing) entries.delete(managerId)
            })
          )
        )
      )
      const created: Entry = { fetchedAt: now, listing }
      entries.set(managerId, created)
      return { entry: created, fresh: true }
    })

  /**
   * The hash of `key` in the list of the account of management key `managerId`, read with `fetch` when no
   * fresh list is kept (see above).
   */
  const hashOf = <R>(
    managerId: string,
    fetch: Effect.Effect<ReadonlyArray<KeyListItem>, OpenRouterError, R>,
    key: ListedAs
  ): Effect.Effect<string | undefined, OpenRouterError, R> =>
    Effect.gen(function* () {
      const first = yield* entry(managerId, fetch, undefined)
      const hash = hashIn(yield* first.entry.listing, key)
      if (hash !== undefined || first.fresh) return hash
      const again = yield* entry(managerId, fetch, first.entry.fetchedAt)
      return hashIn(yield* again.entry.listing, key)
    })

  return { hashOf } as const
}
