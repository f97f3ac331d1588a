import { SqlClient } from "@effect/sql"
import { type DomainEvent, streamOf } from "@orw/domain"
import { Clock, Context, DateTime, Deferred, Effect, Either, Exit, FiberId, Option, Random } from "effect"
import type { EventMetadata, StoredEvent, StreamWrite } from "./EventStore.js"
import { ConcurrencyConflict, EventStore } from "./EventStore.js"
import { GroupCommit } from "./GroupCommit.js"
import * as Idempotency from "./Idempotency.js"
import type { PgStatement } from "./PgPipeline.js"
import { Projector } from "./Projector.js"
import { SqliteHandle } from "./SqliteClient.js"

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
  /** PostgreSQL's fast path: the rows of the plan's `alsoRead`, read in the append's transaction. */
  readonly alsoRead?: ReadonlyArray<Record<string, unknown>>
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

/** A stream a {@link Plan} reads, and how it folds into the state its decision needs. */
export interface PlanRead<S> {
  readonly streamId: string
  readonly initial: () => S
  // biome-ignore lint/suspicious/noExplicitAny: each stream folds its own events (the stream's contract, as in Load)
  readonly evolve: (state: S, event: any) => S
}

/**
 * A decision whose reads are known before any of them is made and which is a plain function of their
 * states. When every one of those streams is current in the state cache (SQLite), it is decided at once
 * and its writes run as one synchronous step of the group commit, without an effect per read or statement;
 * otherwise it is decided as any other, its streams read through `load`. Its events need no extra write in
 * the transaction (no ExecuteOptions.inTransaction).
 */
export interface Plan<E> {
  // biome-ignore lint/suspicious/noExplicitAny: states of different types, each read's own (see `plan`)
  readonly reads: ReadonlyArray<PlanRead<any>>
  readonly decide: (states: ReadonlyArray<unknown>) => Either.Either<ReadonlyArray<DomainEvent>, E>
  /**
   * PostgreSQL: a read to make in the transaction of the events decided (on the fast path, sent with them in
   * the same round trip), its rows given back as {@link Executed.alsoRead}; undefined, or off the fast path, none.
   */
  readonly alsoRead?: (events: ReadonlyArray<DomainEvent>) => PgStatement | undefined
}

// biome-ignore lint/suspicious/noExplicitAny: see Plan
type StatesOf<R extends ReadonlyArray<PlanRead<any>>> = {
  readonly [K in keyof R]: R[K] extends PlanRead<infer S> ? S : never
}

/** A plan from its reads and a decision typed by their states. */
// biome-ignore lint/suspicious/noExplicitAny: see Plan
export const plan = <const R extends ReadonlyArray<PlanRead<any>>, E>(
  reads: R,
  decide: (states: StatesOf<R>) => Either.Either<ReadonlyArray<DomainEvent>, E>,
  alsoRead?: Plan<E>["alsoRead"]
): Plan<E> => ({ reads, decide: decide as Plan<E>["decide"], ...(alsoRead === undefined ? {} : { alsoRead }) })

/** A plan decided by reading its streams through `load` (when they are not all current in the cache). */
export const decidePlan = <E>(
  { reads, decide }: Plan<E>,
  load: Load,
  options?: { readonly concurrency?: "unbounded" }
): Effect.Effect<Either.Either<ReadonlyArray<DomainEvent>, E>> =>
  Effect.map(
    Effect.all(
      reads.map((read) => load(read.streamId, read.initial, read.evolve)),
      options
    ),
    decide
  )

/** A stream a decision read: the version it was at and the states folded from it (by evolve function). */
interface Read {
  version: number
  readonly folds: Array<{ readonly evolve: Evolve; readonly state: unknown }>
}

/** Folded states kept between commands; beyond this many, the oldest are dropped. */
const CACHE_SIZE = 10_000

interface Entry {
  readonly version: number
  readonly state: unknown
  /** The generation of the cache this entry is known current in (see {@link makeStateCache}); -1: never. */
  readonly generation: number
  /** When it was kept, in the cache's count (see `invalidateStream`). */
  readonly kept: number
}

/**
 * Folded states by evolve function and stream, so a command reads only the events appended
 * since its stream was last folded (streams such as a key's usage grow for years). States
 * are immutable values and the version says where to resume, so a stale entry is only slower,
 * never wrong: events written by another process are read like any others.
 *
 * On SQLite the cache can also say that nothing was appended since: an entry is *current* while its
 * generation is the cache's, and the generation moves on whenever a stream may have moved without this
 * cache seeing it (another connection committed: SQLite's `data_version` changed; a command lost a race).
 * The commands of this process move the entries of the streams they append to when their transaction
 * commits, before their callers are answered; a current entry is used without reading the stream.
 */
const makeStateCache = () => {
  const byEvolve = new WeakMap<object, Map<string, Entry>>()
  let size = 0
  let generation = 0
  /** Entries are numbered as they are kept; a stream marked stale at n has no current entry kept before n. */
  let kept = 0
  const staleAt = new Map<string, number>()
  const entries = (evolve: object) => {
    const known = byEvolve.get(evolve)
    if (known !== undefined) return known
    const map = new Map<string, Entry>()
    byEvolve.set(evolve, map)
    return map
  }
  return {
    get: (evolve: object, streamId: string) => entries(evolve).get(streamId),
    isCurrent: (entry: Entry, streamId: string) =>
      entry.generation === generation && entry.kept > (staleAt.get(streamId) ?? -1),
    /** One stream may be behind: each of its entries (by evolve) is not current until it is read or committed again. */
    invalidateStream: (streamId: string) => {
      staleAt.set(streamId, kept++)
    },
    /** Every entry may be behind its stream from now on: the next load of each reads the stream again. */
    invalidate: () => {
      generation++
    },
    /**
     * Keeps the state of a stream at `version`, current when `current` (it was read, or committed, just
     * now), unless a later version is kept already (a reader overtaken by a commit cannot take it back).
     */
    set: (evolve: object, streamId: string, version: number, state: unknown, current: boolean) => {
      const map = entries(evolve)
      const known = map.get(streamId)
      if (known !== undefined && known.version > version) return
      if (known === undefined) size++
      map.delete(streamId)
      map.set(streamId, { version, state, generation: current ? generation : -1, kept: kept++ })
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

/** How many command handlers run on each SQLite connection (see `refresh`). */
const handlersOf = new WeakMap<object, { count: number }>()

/**
 * load -> decide -> append (+ inline projections) in one transaction; a lost race is
 * retried with fresh state, so the loser gets the ordinary business answer.
 */
export class CommandHandler extends Effect.Service<CommandHandler>()("orw/CommandHandler", {
  effect: Effect.gen(function* () {
    const store = yield* EventStore
    const projector = yield* Projector
    const groupCommit = yield* GroupCommit
    const handle = yield* Effect.serviceOption(SqliteHandle)
    const cache = makeStateCache()

    /**
     * SQLite: whether another connection committed since the last look (`PRAGMA data_version` moves when
     * one did, never for this connection's own commits); if one did, no entry of the cache is current.
     * PostgreSQL: every load reads its stream (nothing tells what other instances committed).
     */
    let dataVersion = -1
    // The cache is current only as the one command path of its connection: a second handler on the same
    // connection would commit without this cache seeing it (and data_version does not move for either).
    const handlers = Option.map(handle, (sqlite) => {
      const known = handlersOf.get(sqlite) ?? { count: 0 }
      known.count++
      handlersOf.set(sqlite, known)
      return known
    })
    const refreshNow: () => boolean = Option.match(handle, {
      onNone: () => () => false,
      // Read outside the connection's lock: it is no data, and another fiber's open transaction leaves it as it is.
      onSome: (sqlite) => () => {
        const seen = Number(sqlite.prepare("PRAGMA data_version").pluck().get())
        if (seen !== dataVersion) {
          dataVersion = seen
          cache.invalidate()
        }
        return Option.isSome(handlers) && handlers.value.count === 1
      }
    })
    const refresh = Effect.sync(refreshNow)

    /** The writes of a decision's events, each stream at the version read, and guards on the streams read only. */
    const writesOf = (events: ReadonlyArray<DomainEvent>, reads: ReadonlyMap<string, Read>) => {
      const byStream = new Map<string, Array<DomainEvent>>()
      for (const event of events) {
        const streamId = streamOf(event)
        if (!reads.has(streamId)) return undefined
        const known = byStream.get(streamId)
        if (known === undefined) byStream.set(streamId, [event])
        else known.push(event)
      }
      const writes: Array<StreamWrite> = [...byStream].map(([streamId, events]) => ({
        streamId,
        expectedVersion: reads.get(streamId)?.version ?? 0,
        events
      }))
      const guards = [...reads]
        .filter(([streamId]) => !byStream.has(streamId))
        .map(([streamId, { version }]) => ({ streamId, expectedVersion: version }))
      return { writes, guards }
    }

    /**
     * The cache moves on with the events just committed (the writer runs this before anyone is answered): the
     * next command on these streams reads nothing back. Inside a caller's transaction, which may yet roll back,
     * it keeps the committed states it has, none of them current: the next loads read.
     */
    const committedFor =
      (writes: ReadonlyArray<StreamWrite>, reads: ReadonlyMap<string, Read>) => (durable: boolean) => {
        if (!durable) return cache.invalidate()
        for (const write of writes) {
          const read = reads.get(write.streamId)
          if (read === undefined) continue
          const version = write.expectedVersion + write.events.length
          for (const { evolve, state } of read.folds) {
            cache.set(evolve, write.streamId, version, write.events.reduce(evolve, state), true)
          }
        }
      }

    /**
     * A lost race: a stream moved past what the cache holds. SQLite: another connection wrote, the retry reads
     * every stream again. PostgreSQL: another instance moved that stream; its entries are read again (any
     * other stream the decision read is checked again by the retry's append).
     */
    const invalidateOnConflict = (error: unknown) =>
      error instanceof ConcurrencyConflict
        ? Effect.sync(() => (pg === undefined ? cache.invalidate() : cache.invalidateStream(error.streamId)))
        : Effect.void

    const appendOn = store.appendOn

    /**
     * PostgreSQL: what another instance committed is unknown here, so a current entry (read or committed by
     * this process, and no race lost since) may be behind its stream. A decision that writes may still be
     * taken on it: its append claims or guards every stream it read at the version it read, so a stale state
     * fails the append (a ConcurrencyConflict; the retry reads every stream). A decision that writes nothing
     * has no such check: the command path takes it on the streams as read (the full path). The one exception
     * is the caller's: {@link decidesNothingNow}, which on PostgreSQL only the spike follow-up asks, right after
     * the usage's own commit checked its streams (see the Dispatcher's `shortcut`).
     */
    const appendPlanPg = store.appendPlanPg
    const commitPipelined = groupCommit.commitPipelined
    const pg =
      appendPlanPg !== undefined && commitPipelined !== undefined ? { appendPlanPg, commitPipelined } : undefined

    /**
     * A {@link Plan}'s decision from the state cache, now: outside a caller's transaction, every stream it
     * reads current in the cache (else undefined). With the streams as read, for its writes. On SQLite a
     * current entry is its stream as committed; on PostgreSQL it may be behind (see `pg`).
     */
    const decideNow = <E>({ reads: planReads, decide }: Plan<E>, context: Context.Context<never>) => {
      if (appendOn === undefined && pg === undefined) return undefined
      if (Option.isSome(Context.getOption(context, SqlClient.TransactionConnection))) return undefined
      if (pg === undefined && !refreshNow()) return undefined
      const reads = new Map<string, Read>()
      const states: Array<unknown> = []
      for (const { streamId, evolve } of planReads) {
        const cached = cache.get(evolve, streamId)
        if (cached === undefined || !cache.isCurrent(cached, streamId)) return undefined
        const read = reads.get(streamId)
        if (read === undefined)
          reads.set(streamId, { version: cached.version, folds: [{ evolve, state: cached.state }] })
        else read.folds.push({ evolve, state: cached.state })
        states.push(cached.state)
      }
      return { outcome: decide(states), reads }
    }

    /**
     * The fast path of a {@link Plan} (see {@link decideNow}): decided at once, its writes one synchronous
     * step of the group commit. Undefined when it does not apply; the plan is then decided as any command.
     */
    const planned = <E>(
      p: Plan<E>,
      options: ExecuteOptions,
      context: Context.Context<never>
    ): Effect.Effect<Executed<ReadonlyArray<DomainEvent>>, E | ConcurrencyConflict> | undefined => {
      if (options.idempotencyKey !== undefined || options.inTransaction !== undefined) return undefined
      if (pg !== undefined) return plannedPg(p, options, context, pg)
      if (appendOn === undefined) return undefined
      const now = decideNow(p, context)
      if (now === undefined) return undefined
      const { outcome, reads } = now
      if (Either.isLeft(outcome)) return Effect.fail(outcome.left)
      const events = outcome.right
      if (events.length === 0) return Effect.succeed({ result: events, events: [] })
      const planned = writesOf(events, reads)
      if (planned === undefined) return Effect.dieMessage("Decision wrote to a stream it did not read")
      const { writes, guards } = planned
      return Effect.flatMap(DateTime.now, (now) => {
        const recordedAt = DateTime.formatIso(now)
        return groupCommit
          .commitOn(
            (prepare) => {
              const appended = appendOn(prepare, writes, options.metadata, guards, recordedAt)
              if (appended._tag === "Appended") projector.on.applyInline(prepare, appended.appended)
              return appended
            },
            committedFor(writes, reads)
          )
          .pipe(
            Effect.map((appended) => ({ result: events, events: appended })),
            // As on the full path: anything but a lost race (the database failing under the batch) is a defect.
            Effect.catchIf((error) => !(error instanceof ConcurrencyConflict), Effect.die),
            Effect.tapError(invalidateOnConflict)
          )
      })
    }

    /**
     * PostgreSQL's fast path of a {@link Plan}: decided from the state cache when every stream it reads is
     * current there and it writes; its writes are statements of the group commit's pipelined batch (one round
     * trip for the batch's appends and projections). A stale state loses the race at the append, whose retry
     * reads every stream. Undefined when it does not apply.
     */
    const plannedPg = <E>(
      p: Plan<E>,
      options: ExecuteOptions,
      context: Context.Context<never>,
      { appendPlanPg, commitPipelined }: NonNullable<typeof pg>
    ): Effect.Effect<Executed<ReadonlyArray<DomainEvent>>, E | ConcurrencyConflict> | undefined => {
      const now = decideNow(p, context)
      if (now === undefined || Either.isLeft(now.outcome) || now.outcome.right.length === 0) return undefined
      const { reads } = now
      const events = now.outcome.right
      const planned = writesOf(events, reads)
      if (planned === undefined) return Effect.dieMessage("Decision wrote to a stream it did not read")
      const { writes, guards } = planned
      return Effect.flatMap(DateTime.now, (now) => {
        let alsoRead: ReadonlyArray<Record<string, unknown>> | undefined
        return Effect.suspend(() => {
          const at = DateTime.formatIso(now)
          const also = p.alsoRead?.(events)
          const inline = projector.pg.inlineStatements(events)
          // The read is a part of the append; so are the projection writes of one event (one table each).
          // Several events may write one row twice: their writes are statements of their own after it.
          const one = events.length === 1
          const append = appendPlanPg(writes, options.metadata, guards, at, {
            ...(one ? { with: inline } : {}),
            ...(also === undefined ? {} : { select: also })
          })
          return commitPipelined(
            {
              _tag: "Pipelined",
              append: append.statement,
              after: one ? [] : inline,
              outcome: (answer) => {
                const rows: unknown = answer.ok ? answer.rows[0]?.also : undefined
                if (also !== undefined && Array.isArray(rows)) alsoRead = rows
                return append.outcome(answer)
              }
            },
            committedFor(writes, reads)
          )
        }).pipe(
          Effect.map(
            (appended): Executed<ReadonlyArray<DomainEvent>> => ({
              result: events,
              events: appended,
              ...(alsoRead === undefined ? {} : { alsoRead })
            })
          ),
          Effect.catchIf((error) => !(error instanceof ConcurrencyConflict), Effect.die),
          Effect.tapError(invalidateOnConflict)
        )
      })
    }

    const attempt = <A, E, R>(decide: (load: Load) => Effect.Effect<Decision<A>, E, R>, options: ExecuteOptions) =>
      Effect.gen(function* () {
        // Inside a caller's transaction a read may see its uncommitted writes, which may yet roll back: the
        // decision reads every stream, and what it reads is not kept (the cache holds committed states only).
        const inTransaction = Option.isSome(yield* Effect.serviceOption(SqlClient.TransactionConnection))
        const trusting = (yield* refresh) && !inTransaction
        // What a load reads outside a transaction is its stream as committed, current in the cache from now on:
        // on SQLite when trusting; on PostgreSQL always (entries there serve decisions that write, see `pg`).
        const current = trusting || (pg !== undefined && !inTransaction)
        const reads = new Map<string, Read>()
        const remember = (streamId: string, version: number, evolve: Evolve, state: unknown) => {
          const read: Read = reads.get(streamId) ?? { version, folds: [] }
          read.version = version
          read.folds.push({ evolve, state })
          reads.set(streamId, read)
        }
        const load: Load = (streamId, initial, evolve) => {
          type S = ReturnType<typeof initial>
          const cached = cache.get(evolve, streamId)
          if (trusting && cached !== undefined && cache.isCurrent(cached, streamId)) {
            remember(streamId, cached.version, evolve as Evolve, cached.state)
            return Effect.succeed(cached.state as S)
          }
          return Effect.map(store.readStream(streamId, cached?.version ?? 0), ({ version, events }) => {
            // A stream only holds events of its own aggregate, so the cast is the stream's contract.
            const state = events.reduce(
              (state, stored) => evolve(state, stored.event as Parameters<typeof evolve>[1]),
              cached === undefined ? initial() : (cached.state as S)
            )
            if (!inTransaction) cache.set(evolve, streamId, version, state, current)
            remember(streamId, version, evolve as Evolve, state)
            return state
          })
        }
        const decision = yield* groupCommit.deciding(decide(load))
        const planned = writesOf(decision.events, reads)
        if (planned === undefined) return yield* Effect.dieMessage("Decision wrote to a stream it did not read")
        const { writes, guards } = planned
        if (writes.length === 0 && options.idempotencyKey === undefined) {
          return { result: decision.result, events: [] } satisfies Executed<A>
        }
        const { idempotencyKey } = options
        const committed = committedFor(writes, reads)
        const appended = yield* groupCommit
          .commit(
            Effect.gen(function* () {
              if (idempotencyKey !== undefined) yield* Idempotency.record(idempotencyKey)
              const appended = yield* store.append(writes, options.metadata, guards)
              if (options.inTransaction) yield* options.inTransaction(appended)
              yield* projector.applyInline(appended)
              return appended
            }),
            committed
          )
          .pipe(
            Effect.catchIf(
              (error): error is Exclude<typeof error, ConcurrencyConflict | Idempotency.KeyAlreadyUsed> =>
                !(error instanceof ConcurrencyConflict || error instanceof Idempotency.KeyAlreadyUsed),
              Effect.die
            ),
            Effect.tapError(invalidateOnConflict)
          )
        return { result: decision.result, events: appended } satisfies Executed<A>
      })

    /**
     * Runs a command: retried on conflict up to a bound, then a 409 `ConcurrencyConflict`. A recorded
     * idempotency key (before deciding, or at commit when another connection recorded it first) ends
     * the command at once, also as a 409: retrying cannot change the answer.
     */
    const execute = <A, E, R>(decide: (load: Load) => Effect.Effect<Decision<A>, E, R>, options: ExecuteOptions) =>
      retrying(executeOnce(decide, options))

    /** One attempt: an idempotency key already recorded ends the command; else load, decide, append. */
    const executeOnce = <A, E, R>(decide: (load: Load) => Effect.Effect<Decision<A>, E, R>, options: ExecuteOptions) =>
      Effect.gen(function* () {
        const { idempotencyKey } = options
        if (idempotencyKey !== undefined && (yield* Idempotency.alreadyDone(idempotencyKey))) {
          return yield* new Idempotency.KeyAlreadyUsed({ key: idempotencyKey })
        }
        return yield* attempt<A, E, R>(decide, options)
      })

    const retrying = <A, E, R>(effect: Effect.Effect<A, E | ConcurrencyConflict | Idempotency.KeyAlreadyUsed, R>) =>
      effect.pipe(
        retryConflicts,
        Effect.catchIf(
          (error): error is Idempotency.KeyAlreadyUsed => error instanceof Idempotency.KeyAlreadyUsed,
          () => Effect.fail(new ConcurrencyConflict({ streamId: "idempotency", expectedVersion: 0 }))
        )
      )

    /**
     * Runs a {@link Plan}: on its fast path when that applies, else as {@link execute} runs `decide` (the same
     * plan decided through `load`), also on the retry of a lost race, whose conflict left no stream current.
     */
    const executePlan = <E, R>(
      p: Plan<E>,
      decide: (load: Load) => Effect.Effect<Decision<ReadonlyArray<DomainEvent>>, E, R>,
      options: ExecuteOptions
    ) =>
      retrying(
        Effect.withFiberRuntime<
          Executed<ReadonlyArray<DomainEvent>>,
          E | ConcurrencyConflict | Idempotency.KeyAlreadyUsed,
          R | SqlClient.SqlClient
        >((fiber) => runPlan(p, decide, options, fiber.currentContext))
      )

    /**
     * PostgreSQL: the streams of the plans this process is running, until each is answered, and the answer to
     * wait for. A second plan on one of them would be decided on the state before the first's commit and lose
     * its race at the append, rolling back the whole pipelined batch (which has no savepoints): it waits,
     * then is decided on the state committed. Plans on one stream run one at a time in a process.
     */
    const unsettled = new Map<string, Deferred.Deferred<void>>()
    const unsettledOf = <E>(p: Plan<E>) => {
      for (const read of p.reads) {
        const pending = unsettled.get(read.streamId)
        if (pending !== undefined) return pending
      }
      return undefined
    }
    /** Runs `effect` with the plan's streams unsettled (uninterruptibly marked, always settled after). */
    const unsettling = <A, E, R>(p: Plan<unknown>, effect: Effect.Effect<A, E, R>) => {
      const settled = Deferred.unsafeMake<void>(FiberId.none)
      return Effect.acquireUseRelease(
        Effect.sync(() => {
          for (const read of p.reads) unsettled.set(read.streamId, settled)
        }),
        () => effect,
        () =>
          Effect.sync(() => {
            for (const read of p.reads) if (unsettled.get(read.streamId) === settled) unsettled.delete(read.streamId)
            Deferred.unsafeDone(settled, Exit.void)
          })
      )
    }

    const runPlan = <E, R>(
      p: Plan<E>,
      decide: (load: Load) => Effect.Effect<Decision<ReadonlyArray<DomainEvent>>, E, R>,
      options: ExecuteOptions,
      context: Context.Context<never>
    ): Effect.Effect<
      Executed<ReadonlyArray<DomainEvent>>,
      E | ConcurrencyConflict | Idempotency.KeyAlreadyUsed,
      R | SqlClient.SqlClient
    > => {
      // Inside a caller's transaction, which may hold the projection lock that the plan it would wait for needs:
      // no waiting there (a lost race is retried as anywhere else).
      const waits = pg !== undefined && Option.isNone(Context.getOption(context, SqlClient.TransactionConnection))
      const pending = waits ? unsettledOf(p) : undefined
      if (pending !== undefined) {
        return Effect.zipRight(
          Deferred.await(pending),
          Effect.suspend(() => runPlan(p, decide, options, context))
        )
      }
      const run: Effect.Effect<
        Executed<ReadonlyArray<DomainEvent>>,
        E | ConcurrencyConflict | Idempotency.KeyAlreadyUsed,
        R | SqlClient.SqlClient
      > = planned(p, options, context) ?? executeOnce(decide, options)
      return waits ? unsettling(p, run) : run
    }

    /**
     * Whether a {@link Plan} decides nothing: known now from the state cache (see {@link decideNow}), without
     * running it; false when it may decide something or cannot be decided now. On PostgreSQL the cache may be
     * behind: a caller must know that its plan's "nothing" holds on the states it has (see `pg`).
     */
    const decidesNothingNow = <E>(p: Plan<E>, context: Context.Context<never>) => {
      const now = decideNow(p, context)
      return now !== undefined && Either.isRight(now.outcome) && now.outcome.right.length === 0
    }

    return { execute, executePlan, decidesNothingNow } as const
  }),
  dependencies: [EventStore.Default, Projector.Default, GroupCommit.Default]
}) {}
