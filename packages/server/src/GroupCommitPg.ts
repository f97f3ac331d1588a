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
import type { SqlError } from "@effect/sql/SqlError"
import { DateTime, Effect, Exit } from "effect"

const NAME = /^[a-z_]+$/
const ISO = /^[0-9T:.Z+-]+$/

export const makePgTransaction = (sql: SqlClient.SqlClient, names: ReadonlyArray<string>) => {
  for (const name of names) if (!NAME.test(name)) throw new Error(`Unexpected projection name ${name}`)
  const list = names.map((name) => `'${name}'`).join(", ")
  const begin = `BEGIN; SELECT name FROM projection_checkpoints WHERE name IN (${list}) ORDER BY name FOR UPDATE`
  const commit = (position: number, at: string) => {
    if (position <= 0) return "COMMIT"
    if (!Number.isSafeInteger(position) || !ISO.test(at)) throw new Error(`Unexpected checkpoint ${position} ${at}`)
    return `UPDATE projection_checkpoints SET position = ${position}, updated_at = '${at}' WHERE name IN (${list}); COMMIT`
  }

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
