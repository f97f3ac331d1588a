/**
 * The group commit's transaction on PostgreSQL, in two fewer round trips than `sql.withTransaction` plus
 * the projection lock and the checkpoint move as statements of their own:
 * - `BEGIN` and the projection lock (Projector's `lock`: the lock row among the checkpoints, FOR UPDATE)
 *   go out as one simple query;
 * - the checkpoint move (Projector's `moveCheckpoints`) and `COMMIT` likewise.
 * Same statements, same order, same locks as before: only the trips are fewer. The batch's own statements
 * run on the reserved connection, provided as the transaction connection, so a nested `withTransaction`
 * (a command's savepoint) nests as usual. These two texts carry no input: the projection names are the
 * code's own (checked below), the position a safe integer and the time an ISO string, both checked.
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { ConcurrencyConflict } from "@orw/domain"
import { DateTime, Effect, Exit } from "effect"
import type { AppendOutcome } from "./EventRows.js"
import type { StoredEvent } from "./EventStore.js"
import {
  codeOf,
  IN_FAILED_TRANSACTION,
  NOT_PREPARED,
  type PgAnswer,
  type PgPipeline,
  type PgStatement
} from "./PgPipeline.js"
import { lockRowOf } from "./Projector.js"

const NAME = /^[a-z_]+$/
const ISO = /^[0-9T:.Z+-]+$/

/** The two texts: BEGIN with the projection lock, and the checkpoint move (when something was appended) with COMMIT. */
const textsOf = (names: ReadonlyArray<string>) => {
  for (const name of names) if (!NAME.test(name)) throw new Error(`Unexpected projection name ${name}`)
  const list = names.map((name) => `'${name}'`).join(", ")
  const begin = `BEGIN; SELECT name FROM projection_checkpoints WHERE name = '${lockRowOf(names)}' FOR UPDATE`
  const commit = (position: number, at: string) => {
    if (position <= 0) return "COMMIT"
    if (!Number.isSafeInteger(position) || !ISO.test(at)) throw new Error(`Unexpected checkpoint ${position} ${at}`)
    return `UPDATE projection_checkpoints SET position = ${position}, updated_at = '${at}' WHERE name IN (${list}); COMMIT`
  }
  return { begin, commit, list }
}

export const makePgTransaction = (sql: SqlClient.SqlClient, names: ReadonlyArray<string>) => {
  const { begin, commit } = textsOf(names)

  /**
   * Runs `effect` in a transaction under the projection lock; on success moves every checkpoint to
   * `last(result)` (nothing when 0) and commits, else rolls back. Uninterruptible but for `effect`,
   * as `withTransaction` is.
   */
  return <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    last: (result: A) => number
  ): Effect.Effect<A, E | SqlError, Exclude<R, SqlClient.TransactionConnection>> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.scoped(
        Effect.gen(function* () {
          const connection = yield* sql.reserve
          const rollback = Effect.ignore(connection.executeUnprepared("ROLLBACK", [], undefined))
          yield* Effect.tapError(connection.executeUnprepared(begin, [], undefined), () => rollback)
          const exit = yield* Effect.exit(
            restore(Effect.provideService(effect, SqlClient.TransactionConnection, [connection, 0] as const))
          )
          if (Exit.isFailure(exit)) {
            yield* rollback
            return yield* exit
          }
          const at = DateTime.formatIso(yield* DateTime.now)
          yield* Effect.orDie(connection.executeUnprepared(commit(last(exit.value), at), [], undefined))
          return exit.value
        })
      )
    )
}

/** Rounds of a batch in which no job was answered (a statement not prepared), at most. */
const MAX_STALLS = 3

/**
 * A command's writes as statements of a pipelined batch (the fast path on PostgreSQL): its append, then its
 * inline projections' writes, none of which reads another's answer.
 */
export interface PipelinedWrites {
  readonly _tag: "Pipelined"
  readonly append: PgStatement
  readonly after: ReadonlyArray<PgStatement>
  /** The append's answer as an outcome: the stored events, or the stream that moved (a failure otherwise thrown). */
  readonly outcome: (answer: PgAnswer) => AppendOutcome
}

type JobExit = Exit.Exit<ReadonlyArray<StoredEvent>, unknown>

/**
 * A batch of {@link PipelinedWrites} in one transaction on the pipelined connection, under the projection lock,
 * in one round trip: BEGIN with the lock, every job's statements, then the checkpoint move with COMMIT. The
 * same statements, locks and order as the batch through the client, without savepoints and without waiting
 * for any answer before the COMMIT: a job whose stream moved fails its append (`orw_claimed`), and a failed
 * statement aborts the transaction, so the COMMIT behind it rolls it back instead. The job that failed is
 * answered (a ConcurrencyConflict, which its caller retries on fresh state, or a
 * defect), and the others go again in a new transaction. Each round answers at least one job, so a batch
 * of n takes n rounds at most. The checkpoints move to the last position this session drew from the log's
 * sequence, the batch's last event (never backwards).
 */
export const makePipelinedBatch = (pipeline: PgPipeline, names: ReadonlyArray<string>) => {
  const { begin, list } = textsOf(names)
  const moveAtHead = (at: string): PgStatement => {
    if (!ISO.test(at)) throw new Error(`Unexpected checkpoint time ${at}`)
    return {
      text: `UPDATE projection_checkpoints SET position = GREATEST(position, (SELECT currval(pg_get_serial_sequence('events', 'position')))),
      updated_at = '${at}' WHERE name IN (${list})`,
      params: []
    }
  }
  // A statement of its own: it ends the transaction whatever happened in it (an aborted one rolls back), so
  // the connection is out of it for whatever was sent behind (the next batch, which may be on its way).
  const commit: PgStatement = { text: "COMMIT", params: [] }
  const conflictOf = (outcome: Extract<AppendOutcome, { _tag: "Conflict" }>): JobExit =>
    Exit.fail(new ConcurrencyConflict({ streamId: outcome.streamId, expectedVersion: outcome.expectedVersion }))

  /**
   * A job's answers in a round: its exit when it failed (or its outcome when all its statements succeeded);
   * undefined when a job before it aborted the transaction, so that it never ran.
   */
  const judge = (writes: PipelinedWrites, answers: ReadonlyArray<PgAnswer>): JobExit | undefined => {
    const failed = answers.find((answer) => !answer.ok)
    // An earlier job's failure aborted the transaction, or its statement's preparing was refused there: it
    // never ran, it goes again.
    const code = failed !== undefined && !failed.ok ? codeOf(failed.error) : undefined
    if (code === IN_FAILED_TRANSACTION || code === NOT_PREPARED) return undefined
    // A write of its projections failed: a defect of this job (its append's failure is the append's to judge).
    if (failed !== undefined && failed !== answers[0] && !failed.ok) return Exit.die(failed.error)
    try {
      const outcome = writes.outcome(answers[0]!)
      return outcome._tag === "Conflict" ? conflictOf(outcome) : Exit.succeed(outcome.appended)
    } catch (cause) {
      return Exit.die(cause)
    }
  }

  return (jobs: ReadonlyArray<PipelinedWrites>, at: string): Effect.Effect<Array<JobExit>, SqlError> =>
    Effect.uninterruptible(
      Effect.gen(function* () {
        const exits: Array<JobExit | undefined> = jobs.map(() => undefined)
        let pending = jobs.map((_, i) => i)
        let stalls = 0
        while (pending.length > 0) {
          const statements: Array<PgStatement> = [{ text: begin, params: [] }]
          for (const i of pending) statements.push(jobs[i]!.append, ...jobs[i]!.after)
          statements.push(moveAtHead(at), commit)
          const answers = yield* pipeline.run(statements)
          const opened = answers[0]!
          if (!opened.ok) return yield* new SqlError({ cause: opened.error, message: "Failed to begin the batch" })
          const closed = answers.slice(-2).find((answer) => !answer.ok)
          const judged: Array<{ readonly i: number; readonly own: ReadonlyArray<PgAnswer> }> = []
          let next = 1
          for (const i of pending) {
            const own = answers.slice(next, next + 1 + jobs[i]!.after.length)
            next += own.length
            judged.push({ i, own })
          }
          if (closed === undefined) {
            for (const { i, own } of judged) {
              // Committed: every statement succeeded (an answer not understood is the job's defect, its writes durable).
              exits[i] = judge(jobs[i]!, own) ?? Exit.die(new Error("A committed job has no answer"))
            }
            break
          }
          // Something failed: nothing of the round committed (its COMMIT rolled it back).
          const again: Array<number> = []
          for (const { i, own } of judged) {
            // Its statements failed: answered. They succeeded, or never ran: it goes again.
            const exit = judge(jobs[i]!, own)
            if (exit !== undefined && Exit.isFailure(exit)) exits[i] = exit
            else again.push(i)
          }
          // No job failed, the checkpoint move or the COMMIT did: the batch's transaction itself failed. Or a
          // statement was not prepared (NOT_PREPARED, which aborted the round): that goes again, a few times.
          const unprepared = answers.some((answer) => !answer.ok && codeOf(answer.error) === NOT_PREPARED)
          if (again.length === pending.length && (!unprepared || ++stalls > MAX_STALLS)) {
            return yield* new SqlError({
              cause: closed !== undefined && !closed.ok ? closed.error : undefined,
              message: "Failed to commit the batch"
            })
          }
          pending = again
        }
        return exits as Array<JobExit>
      })
    )
}
