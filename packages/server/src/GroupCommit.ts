import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import type Sqlite from "better-sqlite3"
import { Cause, Clock, Context, DateTime, Deferred, Duration, Effect, Exit, FiberId, Option, Queue } from "effect"
import { EventBus } from "./EventBus.js"
import type { AppendOutcome } from "./EventRows.js"
import type { StoredEvent } from "./EventStore.js"
import { ConcurrencyConflict } from "./EventStore.js"
import { makePgTransaction, makePipelinedBatch, type PipelinedWrites } from "./GroupCommitPg.js"
import * as Metrics from "./Metrics.js"
import { makePgPipeline } from "./PgPipeline.js"
import { Projector } from "./Projector.js"
import { APPLICATION_NAME, pgTypes } from "./Sql.js"
import { SqliteHandle } from "./SqliteClient.js"

export type { PipelinedWrites }

/** Commands committed together at most; a larger queue waits for the next transaction. */
const MAX_BATCH = 256

/** How many scheduler turns the writer gives deciding commands to join a batch before it commits without them. */
const GATHER_TURNS = 16

/** On PostgreSQL, how many milliseconds at most the writer then waits for commands still deciding. */
const GATHER_MS_PG = 4

const oneMs = Duration.millis(1)

/**
 * The wait is real time even when the core was built under a TestClock (whose time moves only when a test
 * says so): the writer would otherwise never wake.
 */
const liveClock = Clock.make()

/**
 * A command's writes as one synchronous step on the SQLite connection, inside the writer's transaction (the
 * command path's fast path): its append and inline projections, or the stream that moved since it was read.
 */
export type WritesOn = (prepare: (sql: string) => Sqlite.Statement) => AppendOutcome

interface Job {
  /**
   * The command's writes (idempotency row, append, its own extra writes, inline projections), either as an
   * effect (SqlClient from the writer), on SQLite as a synchronous step ({@link WritesOn}), or on PostgreSQL
   * as statements of a pipelined batch ({@link PipelinedWrites}).
   */
  readonly run: Effect.Effect<ReadonlyArray<StoredEvent>, unknown> | WritesOn | PipelinedWrites
  readonly done: Deferred.Deferred<ReadonlyArray<StoredEvent>, unknown>
  /**
   * The caller stopped waiting (interrupted) before its writes ran: they are skipped, nothing of it commits.
   * Once they ran, the batch commits them: a caller interrupted during the commit itself may then see an
   * interruption for a command that is durable (as a client may after any commit whose answer it lost);
   * an Idempotency-Key makes its retry safe.
   */
  cancelled: boolean
  /** Run by the writer once the command's writes are durable, before any caller of the batch is answered. */
  readonly committed: ((durable: boolean) => void) | undefined
  /** The answer, once a leader's batch gave it (also given through `done`). */
  exit?: Exit.Exit<ReadonlyArray<StoredEvent>, unknown>
}

/**
 * Group commit: one writer per process drains the queue of decided commands into one transaction and one
 * fsync. Each command runs in a savepoint of its own, so a conflict (a stream moved since it was read, an
 * idempotency key already recorded, or a command earlier in the same batch that claimed the same stream)
 * rolls back that command only, which its caller retries on fresh state after the commit. A caller is
 * answered only after the transaction committed (durability as before: acknowledged after the fsync).
 *
 * The projection lock is taken once per batch, the checkpoints moved once, and the EventBus is published
 * in commit order after the commit. Positions still commit in log order (the projector's invariant),
 * also across instances on PostgreSQL: several writers there take turns on the lock, a batch each.
 */
export class GroupCommit extends Effect.Service<GroupCommit>()("orw/GroupCommit", {
  scoped: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const projector = yield* Projector
    const bus = yield* EventBus
    // At close, the commands still queued are answered (interrupted), not left waiting for a writer that is gone.
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Job>(), (queue) =>
      Effect.zipRight(
        Effect.flatMap(Queue.takeAll(queue), (jobs) => Effect.forEach(jobs, (job) => Deferred.interrupt(job.done))),
        Queue.shutdown(queue)
      )
    )
    /** Commands between their first read and their offer: the writer gives them a moment to join a batch. */
    let deciding = 0

    // PostgreSQL: BEGIN with the lock, and the checkpoint move with COMMIT, one round trip each (GroupCommitPg.ts).
    const pgTransaction = sql.onDialectOrElse({
      pg: () =>
        makePgTransaction(
          sql,
          projector.projections.map((p) => p.name)
        ),
      orElse: () => undefined
    })
    const lastPosition = (appended: ReadonlyArray<StoredEvent>) => appended.at(-1)?.position ?? 0

    // PostgreSQL: the pipelined batches on their way (see commitBatch), and the scope that waits for them at close.
    const inFlight = yield* Effect.makeSemaphore(2)
    const writerScope = yield* Effect.scope
    /** Jobs a pipelined batch on its way answers (the writer does not, when it is interrupted). */
    const handedOff = new WeakSet<Job>()

    // PostgreSQL: the fast path's batches on a pipelined connection of the writer's own (PgPipeline.ts).
    const pgClient = yield* Effect.serviceOption(PgClient.PgClient)
    const pipelined = yield* Option.match(
      Option.flatMapNullable(pgClient, (client) => client.config.url),
      {
        onNone: () => Effect.succeed(undefined),
        onSome: (url) =>
          Effect.map(
            Effect.acquireRelease(
              Effect.sync(() => makePgPipeline({ url, applicationName: APPLICATION_NAME, types: pgTypes })),
              (pipeline) => pipeline.close
            ),
            (pipeline) =>
              makePipelinedBatch(
                pipeline,
                projector.projections.map((p) => p.name)
              )
          )
      }
    )

    const sqlite = Option.getOrUndefined(yield* Effect.serviceOption(SqliteHandle))

    /** A job whose caller stopped waiting while earlier commands ran: nothing of it is written. */
    const cancelledExit = Exit.interrupt(FiberId.none)
    /** The exits of a batch's jobs, in order, and the last position they appended. */
    const batchExits = () => {
      const exits: Array<Exit.Exit<ReadonlyArray<StoredEvent>, unknown>> = []
      let last = 0
      return {
        exits,
        get last() {
          return last
        },
        add: (exit: Exit.Exit<ReadonlyArray<StoredEvent>, unknown>) => {
          if (Exit.isSuccess(exit)) last = Math.max(last, exit.value.at(-1)?.position ?? 0)
          exits.push(exit)
        }
      }
    }

    /** A synchronous job's outcome as the effect's exit would be. */
    const exitOf = (outcome: AppendOutcome): Exit.Exit<ReadonlyArray<StoredEvent>, unknown> =>
      outcome._tag === "Appended"
        ? Exit.succeed(outcome.appended)
        : Exit.fail(new ConcurrencyConflict({ streamId: outcome.streamId, expectedVersion: outcome.expectedVersion }))

    /** A synchronous job in a savepoint of its own: a conflict or a throw leaves the transaction as it was before it. */
    const inSavepointOn = (prepare: (sql: string) => Sqlite.Statement, run: WritesOn) => {
      prepare("SAVEPOINT orw_job").run()
      let outcome: AppendOutcome
      try {
        outcome = run(prepare)
      } catch (cause) {
        prepare("ROLLBACK TO orw_job").run()
        prepare("RELEASE orw_job").run()
        return Exit.die(cause)
      }
      if (outcome._tag === "Conflict") prepare("ROLLBACK TO orw_job").run()
      prepare("RELEASE orw_job").run()
      return exitOf(outcome)
    }

    /** A synchronous job alone in its batch: no savepoint, a throw is its defect (the transaction rolls back, empty). */
    const aloneOn = (prepare: (sql: string) => Sqlite.Statement, run: WritesOn) => {
      try {
        return exitOf(run(prepare))
      } catch (cause) {
        return Exit.die(cause)
      }
    }

    /**
     * SQLite, every job synchronous: the whole batch, BEGIN to COMMIT, as one synchronous step on the
     * connection (the statements the effectful batch runs, without an effect per statement). A job that fails
     * rolls back to its savepoint (a batch of one: the transaction, which holds nothing else); a failure of
     * the transaction itself throws, nothing of the batch committed.
     */
    const writeJobsNow = (
      db: Sqlite.Database,
      prepare: (sql: string) => Sqlite.Statement,
      jobs: ReadonlyArray<Job>,
      at: string
    ) => {
      prepare("BEGIN").run()
      try {
        projector.on.lock(prepare)
        const batch = batchExits()
        for (const job of jobs) {
          const run = job.run as WritesOn
          batch.add(
            job.cancelled ? cancelledExit : jobs.length === 1 ? aloneOn(prepare, run) : inSavepointOn(prepare, run)
          )
        }
        if (batch.last > 0) {
          projector.on.moveCheckpoints(prepare, batch.last, at)
          prepare("COMMIT").run()
        } else prepare("ROLLBACK").run()
        return batch.exits
      } catch (cause) {
        if (db.inTransaction) prepare("ROLLBACK").run()
        throw cause
      }
    }

    /** {@link writeJobsNow} by the writer, under the connection's lock. */
    const writeBatchOn = (jobs: ReadonlyArray<Job>, handle: NonNullable<typeof sqlite>) =>
      Effect.flatMap(Effect.map(DateTime.now, DateTime.formatIso), (at) =>
        handle.use((db, prepare) => writeJobsNow(db, prepare, jobs, at))
      )

    /** A batch of one needs no savepoint: its failure rolls back a transaction that holds nothing else. */
    const writeOne = (run: Effect.Effect<ReadonlyArray<StoredEvent>, unknown>) =>
      Effect.map(
        Effect.exit(
          pgTransaction !== undefined
            ? pgTransaction(run, lastPosition)
            : sql.withTransaction(
                Effect.gen(function* () {
                  yield* projector.lock
                  const appended = yield* run
                  const last = appended.at(-1)
                  if (last !== undefined) yield* projector.moveCheckpoints(last.position)
                  return appended
                })
              )
        ),
        (exit) => [exit]
      )

    /**
     * A job in a savepoint of its own. SQLite: the savepoint's statements straight on the connection (prepared
     * once, no span each), inside the batch's transaction; elsewhere a nested transaction of the client.
     */
    const inSavepoint = Option.match(Option.fromNullable(sqlite), {
      onNone: () => (run: Effect.Effect<ReadonlyArray<StoredEvent>, unknown>) => Effect.exit(sql.withTransaction(run)),
      onSome: (sqlite) => {
        const step = (statements: ReadonlyArray<string>) =>
          Effect.orDie(
            sqlite.use((_, prepare) => {
              for (const statement of statements) prepare(statement).run()
            })
          )
        const release = step(["RELEASE orw_job"])
        const rollback = step(["ROLLBACK TO orw_job", "RELEASE orw_job"])
        return (run: Effect.Effect<ReadonlyArray<StoredEvent>, unknown>) =>
          Effect.zipRight(
            step(["SAVEPOINT orw_job"]),
            Effect.flatMap(Effect.exit(run), (exit) => Effect.as(Exit.isSuccess(exit) ? release : rollback, exit))
          )
      }
    })

    /** The commands of a batch, each in a savepoint; their exits and the last position appended. */
    const runJobs = (jobs: ReadonlyArray<Job>) =>
      Effect.gen(function* () {
        const batch = batchExits()
        for (const job of jobs) {
          // A savepoint: a failed command leaves the batch as it was before it.
          const { run } = job
          batch.add(
            job.cancelled
              ? cancelledExit
              : Effect.isEffect(run)
                ? yield* inSavepoint(run)
                : yield* Effect.orDie(
                    (sqlite as NonNullable<typeof sqlite>).use((_, prepare) => inSavepointOn(prepare, run as WritesOn))
                  )
          )
        }
        return { exits: batch.exits, last: batch.last }
      })

    const writeBatchPg = (jobs: ReadonlyArray<Job>, transaction: NonNullable<typeof pgTransaction>) =>
      Effect.map(
        transaction(runJobs(jobs), (run) => run.last),
        (run) => run.exits
      )

    const writeBatch = (jobs: ReadonlyArray<Job>) =>
      pgTransaction !== undefined
        ? writeBatchPg(jobs, pgTransaction)
        : sql.withTransaction(
            Effect.gen(function* () {
              yield* projector.lock
              const { exits, last } = yield* runJobs(jobs)
              if (last > 0) yield* projector.moveCheckpoints(last)
              return exits
            })
          )

    // PostgreSQL: deciders wait on the network, not on the scheduler; a few milliseconds gather them.
    const gatherMs = sql.onDialectOrElse({ pg: () => GATHER_MS_PG, orElse: () => 0 })

    /**
     * Whether the writer holds a batch, from taking it off the queue until its callers are answered: a leader
     * (see {@link commitOn}) then leaves its batch to the writer, so that commits are published in their order.
     */
    let writing = false

    /** Takes the next batch off the queue into `taken` (so that an interruption while it waits answers them). */
    const gather = (taken: Array<Job>) =>
      Effect.gen(function* () {
        taken.push(yield* Queue.take(queue))
        writing = true
        for (let turn = 0; turn < GATHER_TURNS && deciding > 0; turn++) yield* Effect.yieldNow()
        for (let ms = 0; ms < gatherMs && deciding > 0; ms++) yield* Effect.withClock(Effect.sleep(oneMs), liveClock)
        taken.push(...(yield* Queue.takeUpTo(queue, MAX_BATCH - 1)))
      })

    // Every job the writer took off the queue is answered, also when the writer is interrupted (shutdown) while
    // it gathers or commits: its caller must not wait for an answer that will never come.
    const writeOnce = Effect.suspend(() => {
      const taken: Array<Job> = []
      return Effect.onInterrupt(
        Effect.gen(function* () {
          const jobs = yield* Effect.map(gather(taken), () => taken.filter((job) => !job.cancelled))
          if (jobs.length > 0) yield* commitBatch(jobs)
        }).pipe(Effect.ensuring(Effect.sync(() => (writing = false)))),
        () => Effect.forEach(taken, (job) => (handedOff.has(job) ? Effect.void : Deferred.interrupt(job.done)))
      )
    })

    const isPipelined = (run: Job["run"]): run is PipelinedWrites =>
      !Effect.isEffect(run) && typeof run !== "function" && run._tag === "Pipelined"

    /**
     * PostgreSQL: the batch's pipelined jobs in a transaction of their own, then the others as usual. The
     * writer does not wait for the pipelined transaction's answer: it gathers and sends the next batch behind
     * it on the same connection (two at most on their way), so that the database runs one batch while this
     * process settles the one before and decides the next. Their transactions commit one after the other on
     * the one connection (a batch whose first round failed commits the rest in a later round, after the
     * batch behind it), and each is settled once its last round's answers came back: positions, checkpoints
     * and publication follow the commits.
     */
    const commitBatch = (jobs: ReadonlyArray<Job>): Effect.Effect<void> => {
      if (pipelined === undefined) return commitEffects(jobs)
      // The others commit after the pipelined batches on their way, and are published after them.
      const afterPipelined = (jobs: ReadonlyArray<Job>) => inFlight.withPermits(2)(commitEffects(jobs))
      if (!jobs.some((job) => isPipelined(job.run))) return afterPipelined(jobs)
      const fast = jobs.filter((job) => isPipelined(job.run))
      const rest = jobs.filter((job) => !isPipelined(job.run))
      return Effect.gen(function* () {
        const at = DateTime.formatIso(yield* DateTime.now)
        yield* inFlight.take(1)
        // Its callers are answered by the batch from now on, whatever happens to the writer. The batch, its
        // settling and the permit's release are one uninterruptible step: at close the scope waits for it.
        for (const job of fast) handedOff.add(job)
        yield* Effect.forkIn(
          Effect.uninterruptible(
            Effect.exit(
              pipelined(
                fast.map((job) => job.run as PipelinedWrites),
                at
              )
            ).pipe(
              Effect.flatMap((batch) =>
                Exit.isFailure(batch)
                  ? Effect.sync(() => failAll(fast, batch.cause))
                  : settle(fast, batch.value, "pipelined")
              ),
              Effect.ensuring(inFlight.release(1))
            )
          ),
          writerScope
        )
        if (rest.length > 0) yield* afterPipelined(rest)
      })
    }

    const commitEffects = (jobs: ReadonlyArray<Job>) =>
      Effect.gen(function* () {
        const first = jobs[0]!.run
        const steps = sqlite !== undefined && jobs.every((job) => !Effect.isEffect(job.run))
        const batch = steps
          ? yield* Effect.exit(writeBatchOn(jobs, sqlite))
          : jobs.length === 1 && Effect.isEffect(first)
            ? Exit.succeed(yield* writeOne(first))
            : yield* Effect.exit(writeBatch(jobs))
        if (Exit.isFailure(batch)) return failAll(jobs, batch.cause)
        yield* settle(jobs, batch.value, steps ? "synchronous" : "client")
      })

    /** The transaction of a batch failed (the database went away, a disk error): nothing of it is durable. */
    const failAll = (jobs: ReadonlyArray<Job>, cause: Cause.Cause<unknown>) => {
      for (const job of jobs) Deferred.unsafeDone(job.done, Exit.failCause(cause))
    }

    /**
     * A committed batch, as one synchronous step: the commit callbacks in commit order before anyone is
     * answered (whoever learns of a commit finds its callback's effects), the EventBus, the answers; then
     * the appended-events counter and the committed-commands counter of the batch's path.
     */
    const settle = (
      jobs: ReadonlyArray<Job>,
      exits: ReadonlyArray<Exit.Exit<ReadonlyArray<StoredEvent>, unknown>>,
      path: Metrics.CommitPath
    ) => {
      for (const [i, job] of jobs.entries()) if (Exit.isSuccess(exits[i]!)) job.committed?.(true)
      const appended = exits.flatMap((exit) => (Exit.isSuccess(exit) ? exit.value : []))
      bus.publishNow(appended)
      for (const [i, job] of jobs.entries()) {
        job.exit = exits[i]!
        Deferred.unsafeDone(job.done, exits[i]!)
      }
      return Effect.zipRight(
        Metrics.recordAppended(appended.map((e) => e.type)),
        Metrics.recordCommitted(path, exits.filter(Exit.isSuccess).length)
      )
    }

    yield* Effect.forkScoped(Effect.forever(writeOnce).pipe(Effect.interruptible))

    /** Brackets a command's reads and decision, so the writer knows who may still join the batch it gathers. */
    const deciding_ = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Effect.sync(() => deciding++),
        () => effect,
        () => Effect.sync(() => deciding--)
      )

    /**
     * Commits `writes` (which run inside a transaction) and answers once they are durable. A caller already
     * inside a transaction of its own runs them there, as one would expect of a nested call. `committed`
     * runs once they succeeded, with `durable` true when they committed (run by the writer, before the
     * batch's callers are answered), false when they are in the caller's transaction, which may still roll back.
     */
    const commit = <E, R>(
      writes: Effect.Effect<ReadonlyArray<StoredEvent>, E, R>,
      committed?: (durable: boolean) => void
    ) =>
      Effect.gen(function* () {
        const context = yield* Effect.context<R>()
        if (Option.isSome(Context.getOption(context as Context.Context<never>, SqlClient.TransactionConnection))) {
          const appended = yield* projector.underLock(writes)
          committed?.(false)
          yield* bus.publish(appended)
          yield* Metrics.recordAppended(appended.map((e) => e.type))
          return appended
        }
        const clock = yield* Effect.clock
        // The caller's services and clock (a TestClock's time is the events' time); the writer's transaction.
        const run = writes.pipe(
          Effect.withClock(clock),
          Effect.mapInputContext((writer: Context.Context<never>) => Context.merge(context, writer))
        ) as Effect.Effect<ReadonlyArray<StoredEvent>, unknown>
        return yield* enqueue(run, committed) as Effect.Effect<ReadonlyArray<StoredEvent>, E>
      })

    /** Queues a job for the writer and waits for its answer; a caller interrupted before it ran cancels it. */
    const enqueue = (run: Job["run"], committed: Job["committed"]) =>
      Effect.flatMap(Deferred.make<ReadonlyArray<StoredEvent>, unknown>(), (done) => {
        const job: Job = { run, done, cancelled: false, committed }
        return Effect.zipRight(
          Queue.offer(queue, job),
          Effect.onInterrupt(Deferred.await(done), () => Effect.sync(() => (job.cancelled = true)))
        )
      })

    const interruptAll = (jobs: ReadonlyArray<Job>) => {
      for (const job of jobs) Deferred.unsafeDone(job.done, Exit.interrupt(FiberId.none))
    }

    /** The synchronous jobs of the batch a leader is gathering (see {@link commitOn}); undefined when none is. */
    let gathering: Array<Job> | undefined

    /**
     * A leader's batch, committed by the leader itself: BEGIN to COMMIT, the commit callbacks, the EventBus and
     * the answers in one synchronous step, so that nothing runs between a commit and its publication. When the
     * writer holds a batch, or a transaction is open on the connection (a fiber's, between its statements), the
     * jobs go to the writer instead, which commits them after.
     */
    const lead = (jobs: ReadonlyArray<Job>, handle: NonNullable<typeof sqlite>) =>
      Effect.flatMap(Effect.map(DateTime.now, DateTime.formatIso), (at) => {
        if (writing || handle.db.inTransaction) {
          // Shutting down: the writer is gone, and so is its queue; the jobs are answered, not left waiting.
          return Effect.flatMap(Queue.isShutdown(queue), (down) =>
            down ? Effect.sync(() => interruptAll(jobs)) : Queue.offerAll(queue, jobs)
          )
        }
        let exits: ReadonlyArray<Exit.Exit<ReadonlyArray<StoredEvent>, unknown>>
        try {
          exits = writeJobsNow(handle.db, handle.prepare, jobs, at)
        } catch (cause) {
          failAll(jobs, Cause.fail(new SqlError({ cause, message: "Failed to execute statement" })))
          return Effect.void
        }
        return settle(jobs, exits, "synchronous")
      })

    /**
     * SQLite: commits writes that are one synchronous step on the connection (see {@link WritesOn}), as
     * `commit` does; a lost race fails with the ConcurrencyConflict the step answered.
     *
     * Without the writer in between: the first caller to arrive is the leader of a batch. It gives the other
     * callers one turn of the scheduler to join (callers answered together by the last batch decide in that
     * turn, their decisions being synchronous), then commits them all with its own, and answers them.
     */
    const commitOn = (writes: WritesOn, committed?: (durable: boolean) => void) => {
      const handle = sqlite
      if (handle === undefined) {
        return enqueue(writes, committed) as Effect.Effect<ReadonlyArray<StoredEvent>, ConcurrencyConflict>
      }
      // Joining or leading, and the leader's whole batch, are uninterruptible: a caller interrupted there could
      // leave a batch that others joined with nobody to commit it. Only the wait for an answer is interruptible.
      return Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          const job: Job = { run: writes, done: Deferred.unsafeMake(FiberId.none), cancelled: false, committed }
          const answer = restore(
            Effect.onInterrupt(Deferred.await(job.done), () => Effect.sync(() => (job.cancelled = true)))
          )
          if (gathering !== undefined) {
            gathering.push(job)
            // A full batch: the next caller leads the next one.
            if (gathering.length >= MAX_BATCH) gathering = undefined
            return answer
          }
          const jobs = [job]
          gathering = jobs
          return Effect.zipRight(
            Effect.yieldNow(),
            Effect.suspend(() => {
              if (gathering === jobs) gathering = undefined
              // The leader's own answer is known once its batch ran (unless the writer took the batch over).
              return Effect.zipRight(
                lead(jobs, handle),
                Effect.suspend(() => (job.exit !== undefined ? job.exit : answer))
              )
            })
          )
        })
      ) as Effect.Effect<ReadonlyArray<StoredEvent>, ConcurrencyConflict>
    }

    /**
     * PostgreSQL: commits writes given as statements of a pipelined batch (see {@link PipelinedWrites}), as
     * `commit` does; a lost race fails with the ConcurrencyConflict its append answered. Undefined on SQLite.
     */
    const commitPipelined =
      pipelined === undefined
        ? undefined
        : (writes: PipelinedWrites, committed?: (durable: boolean) => void) =>
            enqueue(writes, committed) as Effect.Effect<ReadonlyArray<StoredEvent>, ConcurrencyConflict>

    return { commit, commitOn, commitPipelined, deciding: deciding_ } as const
  }),
  dependencies: [Projector.Default, EventBus.Default]
}) {}
