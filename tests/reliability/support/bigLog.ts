import { ApiKeyCommands, ApiKeyId, UserCommands, UserId } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Logger, LogLevel, Redacted } from "effect"
import { openSqlite } from "../../cli/fixture.js"

const metadata = { actor: null, source: "cli" as const, correlationId: "big", causationId: null, requestId: null }

/**
 * A database file whose log holds `total` events (a user, a key, then renames of that key), written with
 * the real store and multiplied in SQL; its checkpoints are dropped, so the next start rebuilds every
 * projection from the whole log, as after an upgrade that changed them.
 */
export const bigLog = async (file: string, total: number) => {
  const seed = Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const at = yield* DateTime.now
    const userId = UserId.make("u-big")
    const keyId = ApiKeyId.make("k-big")
    yield* dispatcher.dispatch(
      new UserCommands.RegisterUser({ userId, email: "big@example.com", passwordHash: "h", at }),
      { metadata }
    )
    yield* dispatcher.dispatch(
      new ApiKeyCommands.AddKey({
        keyId,
        userId,
        name: "big",
        key: Redacted.make(`sk-or-v1-${"b".repeat(64)}`),
        label: "sk-or-v1-bbb...bbb",
        keyHash: "h",
        ciphertext: "c",
        maxKeysPerUser: 10,
        at
      }),
      { metadata }
    )
    yield* dispatcher.dispatch(new ApiKeyCommands.EditKey({ keyId, userId, name: "renamed", at }), { metadata })
  })
  await Effect.runPromise(
    seed.pipe(Effect.provide(Core.layerFile(file)), Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  const db = openSqlite(file)
  try {
    const [rename] = db
      .prepare("SELECT position, stream_id, stream_version FROM events WHERE type = 'KeyRenamed'")
      .all()
    const n = Number(db.prepare("SELECT COUNT(*) AS n FROM events").all()[0]?.n)
    const copies = total - n
    db.exec("BEGIN")
    db.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       INSERT INTO events (stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
       SELECT e.stream_id, e.stream_version + seq.i, e.type, e.schema_version, json_set(e.data, '$.name', 'name ' || seq.i),
         e.metadata, e.recorded_at FROM events e, seq WHERE e.position = ?`
    ).run(copies, rename?.position)
    db.prepare("UPDATE streams SET version = version + ? WHERE stream_id = ?").run(copies, rename?.stream_id)
    db.exec("DELETE FROM projection_checkpoints")
    db.exec("COMMIT")
    db.pragma("wal_checkpoint(TRUNCATE)")
  } finally {
    db.close()
  }
}
