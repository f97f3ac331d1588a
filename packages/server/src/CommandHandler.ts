import type { SqlClient } from "@effect/sql"
import { type DomainEvent, streamOf } from "@orw/domain"
import { Clock, Effect, Random } from "effect"
import type { EventMetadata, StoredEvent, StreamWrite } from "./EventStore.js"
import { ConcurrencyConflict, EventStore } from "./EventStore.js"
import { GroupCommit } from "./GroupCommit.js"
import * as Idempotency from "./Idempotency.js"
import { Projector } from "./Projector.js"

/** Reads one stream and folds it into the state a decider needs; remembers the version read. */
export type Load = <S, E>(streamId: string, initial: () => S, evolve: (state: S, event: E) => S) => Effect.Effect<S>

export interface Decision<A> {
  readonly events: ReadonlyArray<DomainEvent>
  readonly result: A
}

export interface ExecuteOptions {
  readonly metadata: EventMetadata
  /**
   * Recorded with the events. A command whose key is already recorded is not decided again and
   * appends nothing: it fails with a ConcurrencyConflict (not retried), and the caller answers a
   * repeat from what the first run left (see Idempotency.alreadyDone).
   */
  readonly idempotencyKey?: string | undefined
  /** Extra writes that must commit with the events (e.g. storing a wrapped data key). */
  readonly inTransaction?:
    | ((appended: ReadonlyArray<StoredEvent>) => Effect.Effect<void, unknown, SqlClient.SqlClient>)
    | undefined
}

export interface Executed<A> {
  readonly result: A
  readonly events: ReadonlyArray<StoredEvent>
}

/**
 * Retries of a command that lost a race. Under group commit a batch lets one of the commands racing on a
 * stream through and the others retry on the committed state, one round each: a race of n commands on
 * one stream (25 key adds on one user, across instances) needs up to n rounds for the last of them.
 */
const MAX_ATTEMPTS = 16

/** The backoff doubles from 2 ms up to this, so that the rounds stay frequent while the race lasts. */
const MAX_DELAY_MS = 32

/**
 * Waiting for a competing transaction is real time, not the command's time: the backoff sleeps on the
 * live clock even when the command runs under a TestClock (whose time only moves when a test says so,
 * which would leave a retry waiting forever once writers truly run in parallel, as on PostgreSQL).
 */
const liveClock = Clock.make()

/** Retries `effect` on a ConcurrencyConflict, `retries` times, with jittered exponential backoff from 2 ms (capped). */
const retryConflicts = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  retries = MAX_ATTEMPTS,
  delayMs = 2
): Effect.Effect<A, E, R> =>
  Effect.catchIf(
    effect,
    (error) => error instanceof ConcurrencyConflict && retries > 0,
    () =>
      Random.nextRange(0.5, 1.5).pipe(
        Effect.flatMap((jitter) => Effect.withClock(Effect.sleep(delayMs * jitter), liveClock)),
        Effect.zipRight(Effect.suspend(() => retryConflicts(effect, retries - 1, Math.min(delayMs * 2, MAX_DELAY_MS))))
      )
  )
/** An evolve function as the cache keys it. */
type Evolve = (state: unknown, event: unknown) => unknown

/** A stream a decision read: the version it was at and the states folded from it (by evolve function). */
interface Read {
  version: number
  readonly folds: Array<{ readonly evolve: Evolve; readonly state: unknown }>
}

/** Folded stream states kept between commands; beyond this many, the oldest are dropped. */
const CACHE_SIZE = 10_000

/**
 * Folded states by evolve function and stream, so a command reads only the events appended
 * since its stream was last folded (streams such as a key's usage grow for years). States
 * are immutable values and the version says where to resume, so a stale entry is only slower,
 * never wrong: events written by another process are read like any others.
 */
const makeStateCache = () => {
  const byEvolve = new WeakMap<object, Map<string, { readonly version: number; readonly state: unknown }>>()
  let size = 0
  const entries = (evolve: object) => {
    const known = byEvolve.get(evolve)
    if (known !== undefined) return known
    const map = new Map<string, { readonly version: number; readonly state: unknown }>()
    byEvolve.set(evolve, map)
    return map
  }
  return {
    get: (evolve: object, streamId: string) => entries(evolve).get(streamId),
    set: (evolve: object, streamId: string, version: number, state: unknown) => {
      const map = entries(evolve)
      if (!map.has(streamId)) size++
      map.delete(streamId)
      map.set(streamId, { version, state })
      if (size > CACHE_SIZE) {
        const oldest = map.keys().next().value
        if (oldest !== undefined && oldest !== streamId) {
          map.delete(oldest)
          size--
        }
      }
    }
  }
}

/**
 * load -> decide -> append (+ inline projections) in one transaction; a lost race is
 * retried with fresh state, so the loser gets the ordinary business answer.
 */
export class CommandHandler extends Effect.Service<CommandHandler>()("orw/CommandHandler", {
  effect: Effect.gen(function* () {
    const store = yield* EventStore
    const projector = yield* Projector
    const groupCommit = yield* GroupCommit
    const cache = makeStateCache()

    const attempt = <A, E, R>(decide: (load: Load) => Effect.Effect<Decision<A>, E, R>, options: ExecuteOptions) =>
      Effect.gen(function* () {
        const reads = new Map<string, Read>()
        const load: Load = (streamId, initial, evolve) => {
          type S = ReturnType<typeof initial>
          const cached = cache.get(evolve, streamId)
          return Effect.map(store.readStream(streamId, cached?.version ?? 0), ({ version, events }) => {
            // A stream only holds events of its own aggregate, so the cast is the stream's contract.
            const state = events.reduce(
              (state, stored) => evolve(state, stored.event as Parameters<typeof evolve>[1]),
              cached === undefined ? initial() : (cached.state as S)
            )
            cache.set(evolve, streamId, version, state)
            const read: Read = reads.get(streamId) ?? { version, folds: [] }
            read.version = version
            read.folds.push({ evolve: evolve as Evolve, state })
            reads.set(streamId, read)
            return state
          })
        }
        const decision = yield* groupCommit.deciding(decide(load))
        const byStream = new Map<string, Array<DomainEvent>>()
        for (const event of decision.events) {
          const streamId = streamOf(event)
          if (!reads.has(streamId)) return yield* Effect.dieMessage(`Decision wrote to unread stream ${streamId}`)
          byStream.set(streamId, [...(byStream.get(streamId) ?? []), event])
        }
        const writes: Array<StreamWrite> = [...byStream].map(([streamId, events]) => ({
          streamId,
          expectedVersion: reads.get(streamId)?.version ?? 0,
          events
        }))
        const guards = [...reads]
          .filter(([streamId]) => !byStream.has(streamId))
          .map(([streamId, { version }]) => ({ streamId, expectedVersion: version }))
        if (writes.length === 0 && options.idempotencyKey === undefined) {
          return { result: decision.result, events: [] } satisfies Executed<A>
        }
        const { idempotencyKey } = options
        const appended = yield* groupCommit
          .commit(
            Effect.gen(function* () {
              if (idempotencyKey !== undefined) yield* Idempotency.record(idempotencyKey)
              const appended = yield* store.append(writes, options.metadata, guards)
              if (options.inTransaction) yield* options.inTransaction(appended)
              yield* projector.applyInline(appended)
              return appended
            })
          )
          .pipe(
            Effect.catchIf(
              (error): error is Exclude<typeof error, ConcurrencyConflict | Idempotency.KeyAlreadyUsed> =>
                !(error instanceof ConcurrencyConflict || error instanceof Idempotency.KeyAlreadyUsed),
              Effect.die
            )
          )
        // The cache moves on with the events just committed: the next command on these streams reads nothing
        // back (a stream another process moved meanwhile is still read: the cache only says where to resume).
        for (const write of writes) {
          const read = reads.get(write.streamId)
          if (read === undefined) continue
          const version = write.expectedVersion + write.events.length
          for (const { evolve, state } of read.folds) {
            cache.set(evolve, write.streamId, version, write.events.reduce(evolve, state))
          }
        }
        return { result: decision.result, events: appended } satisfies Executed<A>
      })

    /**
     * Runs a command: retried on conflict up to a bound, then a 409 `ConcurrencyConflict`. A recorded
     * idempotency key (before deciding, or at commit when another connection recorded it first) ends
     * the command at once, also as a 409: retrying cannot change the answer.
     */
    const execute = <A, E, R>(decide: (load: Load) => Effect.Effect<Decision<A>, E, R>, options: ExecuteOptions) =>
      Effect.gen(function* () {
        const { idempotencyKey } = options
        if (idempotencyKey !== undefined && (yield* Idempotency.alreadyDone(idempotencyKey))) {
          return yield* new Idempotency.KeyAlreadyUsed({ key: idempotencyKey })
        }
        return yield* attempt<A, E, R>(decide, options)
      }).pipe(
        retryConflicts,
        Effect.catchIf(
          (error): error is Idempotency.KeyAlreadyUsed => error instanceof Idempotency.KeyAlreadyUsed,
          () => Effect.fail(new ConcurrencyConflict({ streamId: "idempotency", expectedVersion: 0 }))
        ),
        Effect.withSpan("CommandHandler.execute")
      )

    return { execute } as const
  }),
  dependencies: [EventStore.Default, Projector.Default, GroupCommit.Default]
}) {}
