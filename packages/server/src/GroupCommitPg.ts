/**
 * The group commit's transaction on PostgreSQL, in two fewer round trips than `sql.withTransaction` plus
 * the projection lock and the checkpoint move as statements of their own:
 * - `BEGIN` and the projection lock (Projector's `lock`: the checkpoint rows, FOR UPDATE, in name order)
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
import { codeOf, IN_FAILED_TRANSACTION, type PgAnswer, type PgPipeline, type PgStatement } from "./PgPipeline.js"

const NAME = /^[a-z_]+$/
const ISO = /^[0-9T:.Z+-]+$/

/** The two texts: BEGIN with the projection lock, and the checkpoint move (when something was appended) with COMMIT. */
const textsOf = (names: ReadonlyArray<string>) => {
  for (const name of names) if (!NAME.test(name)) throw new Error(`Unexpected projection name ${name}`)
  const list = names.map((name) => `'${name}'`).join(", ")
  const begin = `BEGIN; SELECT name FROM projection_checkpoints WHERE name IN (${list}) ORDER BY name FOR UPDATE`
  const commit = (position: number, at: string) => {
    if (position <= 0) return "COMMIT"
    if (!Number.isSafeInteger(position) || !ISO.test(at)) throw new Error(`Unexpected checkpoint ${position} ${at}`)
    return `UPDATE projection_checkpoints SET position = ${position}, updated_at = '${at}' WHERE name IN (${list}); COMMIT`
  }
  return { begin, commit }
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

/**
 * A command's writes as statements of a pipelined batch (the fast path on PostgreSQL): its append, then its
 * inline projections' writes, none of which reads another's answer.
 */
export interface PipelinedWrites {
  readonly _tag: "Pipelined"
  readonly append: PgStatement
  readonly after: ReadonlyArray<PgStatement>
  /** Reads sent after the writes, in the same transaction; their rows go to `onReads` once the batch committed. */
  readonly reads?: ReadonlyArray<PgStatement>
  readonly onReads?: (rows: ReadonlyArray<ReadonlyArray<Record<string, unknown>>>) => void
  /** The append's answer as an outcome: the stored events, or the stream that moved (a failure otherwise thrown). */
  readonly outcome: (answer: PgAnswer) => AppendOutcome
}

type JobExit = Exit.Exit<ReadonlyArray<StoredEvent>, unknown>

/**
 * A batch of {@link PipelinedWrites} in one transaction on the pipelined connection, under the projection lock:
 * BEGIN with the lock and every job's statements in one round trip, then the checkpoint move with COMMIT in a
 * second. Same statements, same locks, same order as the batch through the client, without savepoints: a job
 * whose stream moved (or whose statement failed) rolls the whole transaction back, its caller is answered
 * (a ConcurrencyConflict, which it retries on fresh state; a defect), and the others are sent again, without
 * it, in a new transaction. Each round answers at least one job, so a batch of n takes n rounds at most.
 * `undefined` jobs (callers that stopped waiting) are answered as interrupted by the caller and skipped here.
 */
export const makePipelinedBatch = (pipeline: PgPipeline, names: ReadonlyArray<string>) => {
  const { begin, commit } = textsOf(names)
  const conflictOf = (outcome: Extract<AppendOutcome, { _tag: "Conflict" }>): JobExit =>
    Exit.fail(new ConcurrencyConflict({ streamId: outcome.streamId, expectedVersion: outcome.expectedVersion }))

  /** The job's own answers: its exit when the round decided it, or undefined (its writes held, or never ran). */
  const judge = (writes: PipelinedWrites, answers: ReadonlyArray<PgAnswer>): JobExit | AppendOutcome | undefined => {
    const failed = answers.find((answer) => !answer.ok)
    // An earlier job's failure aborted the transaction: this one never ran, it goes again.
    if (failed !== undefined && !failed.ok && codeOf(failed.error) === IN_FAILED_TRANSACTION) return undefined
    // A write of its projections (or a read) failed: a defect of this job (its append's failure is the append's to judge).
    if (failed !== undefined && failed !== answers[0] && !failed.ok) return Exit.die(failed.error)
    try {
      return writes.outcome(answers[0]!)
    } catch (cause) {
      return Exit.die(cause)
    }
  }

  return (jobs: ReadonlyArray<PipelinedWrites>, at: string): Effect.Effect<Array<JobExit>, SqlError> =>
    Effect.uninterruptible(
      Effect.gen(function* () {
        const exits: Array<JobExit | undefined> = jobs.map(() => undefined)
        let pending = jobs.map((_, i) => i)
        while (pending.length > 0) {
          const statements: Array<PgStatement> = [{ text: begin, params: [] }]
          for (const i of pending) statements.push(jobs[i]!.append, ...jobs[i]!.after, ...(jobs[i]!.reads ?? []))
          const answers = yield* pipeline.run(statements)
          const opened = answers[0]!
          if (!opened.ok) {
            yield* Effect.ignore(pipeline.run([{ text: "ROLLBACK", params: [] }]))
            return yield* new SqlError({ cause: opened.error, message: "Failed to begin the batch" })
          }
          const held: Array<{
            readonly i: number
            readonly appended: ReadonlyArray<StoredEvent>
            readonly reads: ReadonlyArray<PgAnswer>
          }> = []
          const again: Array<number> = []
          let next = 1
          for (const i of pending) {
            const writes = jobs[i]!
            const own = answers.slice(next, next + 1 + writes.after.length + (writes.reads?.length ?? 0))
            next += own.length
            const judged = judge(writes, own)
            if (judged === undefined) again.push(i)
            else if (Exit.isExit(judged)) exits[i] = judged
            else if (judged._tag === "Conflict") exits[i] = conflictOf(judged)
            else held.push({ i, appended: judged.appended, reads: own.slice(1 + writes.after.length) })
          }
          if (held.length === pending.length) {
            const last = Math.max(0, ...held.map(({ appended }) => appended.at(-1)?.position ?? 0))
            const committed = (yield* pipeline.run([{ text: commit(last, at), params: [] }]))[0]!
            if (!committed.ok) return yield* new SqlError({ cause: committed.error, message: "Failed to commit" })
            for (const { i, appended, reads } of held) {
              jobs[i]!.onReads?.(reads.map((read) => (read.ok ? read.rows : [])))
              exits[i] = Exit.succeed(appended)
            }
            break
          }
          const rolledBack = (yield* pipeline.run([{ text: "ROLLBACK", params: [] }]))[0]!
          if (!rolledBack.ok) return yield* new SqlError({ cause: rolledBack.error, message: "Failed to roll back" })
          pending = [...held.map(({ i }) => i), ...again].sort((a, b) => a - b)
        }
        return exits as Array<JobExit>
      })
    )
}
