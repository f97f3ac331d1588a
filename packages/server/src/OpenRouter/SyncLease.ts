import { SqlClient } from "@effect/sql"
import type { Connection } from "@effect/sql/SqlConnection"
import type { ApiKeyId } from "@orw/domain"
import { Effect, Exit, Option, Ref, Scope } from "effect"

/**
 * Which instance polls a key: the one that holds its lease. With several instances on one PostgreSQL
 * database each key is polled by exactly one of them; on SQLite (one machine) every lease is granted.
 */
export interface SyncLeaseShape {
  /** Takes the key's lease if no instance holds it; true when this instance holds it now. */
  readonly acquire: (keyId: ApiKeyId) => Effect.Effect<boolean>
  /** Gives the key's lease back (its fiber stopped): another instance may take it. */
  readonly release: (keyId: ApiKeyId) => Effect.Effect<void>
  /**
   * Whether the leases taken so far are still held. False once the lease session is lost (the
   * database restarted, the network dropped): every lease is gone and the caller must stop polling,
   * then acquire again.
   */
  readonly alive: Effect.Effect<boolean>
}

const everyLease: SyncLeaseShape = {
  acquire: () => Effect.succeed(true),
  release: () => Effect.void,
  alive: Effect.succeed(true)
}

const lockKey = (keyId: ApiKeyId) => `orw:sync:${keyId}`

/**
 * PostgreSQL: one session (a connection reserved from the pool) holds a session advisory lock per key
 * this instance polls, `pg_try_advisory_lock(hashtextextended('orw:sync:<key>', 0))`. The database
 * releases them when the session ends: at once when the instance's process dies (its socket closes),
 * and within about a minute when its machine vanishes (TCP keepalives set below). Another instance
 * takes the key at its next reconciliation (at most a minute later): a takeover within two minutes.
 */
const postgresLease = (sql: SqlClient.SqlClient): Effect.Effect<SyncLeaseShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const session = yield* Ref.make(
      Option.none<{ readonly connection: Connection; readonly scope: Scope.CloseableScope }>()
    )
    const held = new Set<ApiKeyId>()
    // Set when the session was dropped with leases in it; `alive` reports it once.
    let lost = false

    const run = (connection: Connection, text: string, params: ReadonlyArray<unknown> = []) =>
      connection.execute(text, params, undefined)

    const open = Effect.gen(function* () {
      const scope = yield* Scope.make()
      const connection = yield* Scope.extend(sql.reserve, scope)
      // Server-side keepalives: a session whose client vanished without closing is ended in ~40 s.
      yield* run(connection, "SET tcp_keepalives_idle = 20")
      yield* run(connection, "SET tcp_keepalives_interval = 5")
      yield* run(connection, "SET tcp_keepalives_count = 4")
      const opened = { connection, scope }
      yield* Ref.set(session, Option.some(opened))
      return opened
    })

    const drop = Effect.flatMap(Ref.getAndSet(session, Option.none()), (current) =>
      Option.isNone(current)
        ? Effect.void
        : Effect.zipRight(
            Effect.ignore(run(current.value.connection, "SELECT pg_advisory_unlock_all()")),
            Scope.close(current.value.scope, Exit.void)
          )
    ).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          if (held.size > 0) lost = true
          held.clear()
        })
      )
    )

    yield* Effect.addFinalizer(() => drop)

    const current = Effect.flatMap(Ref.get(session), Option.match({ onNone: () => open, onSome: Effect.succeed }))

    const acquire = (keyId: ApiKeyId) =>
      held.has(keyId)
        ? Effect.succeed(true)
        : Effect.flatMap(current, ({ connection }) =>
            run(connection, "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [lockKey(keyId)])
          ).pipe(
            Effect.map((rows) => rows[0]?.ok === true),
            Effect.tap((ok) => (ok ? Effect.sync(() => held.add(keyId)) : Effect.void)),
            Effect.catchAll((error) =>
              Effect.as(Effect.zipRight(Effect.logWarning("sync lease failed", error), drop), false)
            )
          )

    const release = (keyId: ApiKeyId) =>
      !held.has(keyId)
        ? Effect.void
        : Effect.flatMap(Ref.get(session), (opened) =>
            Option.isNone(opened)
              ? Effect.void
              : Effect.asVoid(
                  run(opened.value.connection, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockKey(keyId)])
                )
          ).pipe(
            Effect.ensuring(Effect.sync(() => held.delete(keyId))),
            Effect.catchAll(() => drop)
          )

    const ping = Effect.flatMap(Ref.get(session), (opened) =>
      Option.isNone(opened)
        ? Effect.void
        : run(opened.value.connection, "SELECT 1").pipe(
            Effect.asVoid,
            Effect.catchAll((error) => Effect.zipRight(Effect.logWarning("sync lease session lost", error), drop))
          )
    )
    const alive = Effect.zipRight(
      ping,
      Effect.sync(() => {
        const wasLost = lost
        lost = false
        return !wasLost
      })
    )

    return { acquire, release, alive } satisfies SyncLeaseShape
  })

/** The sync's per-key lease over the database's engine (see {@link SyncLeaseShape}). */
export class SyncLease extends Effect.Service<SyncLease>()("orw/SyncLease", {
  scoped: Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.onDialectOrElse({ pg: () => true, orElse: () => false }) ? postgresLease(sql) : Effect.succeed(everyLease)
  )
}) {}
