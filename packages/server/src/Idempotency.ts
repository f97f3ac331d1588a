/**
 * The `idempotency` side table: which idempotency keys a committed command carried. Its only owner:
 * the command handler records a key with the command's events, and the application asks whether a
 * request already ran (to answer a repeat from what the first run left).
 */
import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Schema } from "effect"
import { isUniqueViolation } from "./Dialect.js"

/** The key was recorded by an earlier command, maybe one that committed a moment ago on another connection. */
export class KeyAlreadyUsed extends Schema.TaggedError<KeyAlreadyUsed>()("KeyAlreadyUsed", {
  key: Schema.String
}) {}

/** An id derived from a namespaced idempotency key: a repeated request names the same resource. */
export const idempotentId = (namespaced: string) =>
  NodeCrypto.createHash("sha256").update(namespaced, "utf8").digest("base64url").slice(0, 32)

/** Whether a command with this idempotency key was already committed. */
export const alreadyDone = (key: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1 AS done FROM idempotency WHERE key = ${key}`).pipe(
    Effect.map((rows) => rows.length > 0),
    Effect.orDie
  )

/**
 * Records the key inside the command's transaction, so it commits with the events or not at all. A key
 * that is already there (the unique key turns a race into a violation) fails with {@link KeyAlreadyUsed}.
 */
export const record = (key: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const at = DateTime.formatIso(yield* DateTime.now)
    // `result` predates this module: nothing reads it, the column is NOT NULL in existing files.
    yield* sql`INSERT INTO idempotency ${sql.insert({ key, result: "null", recorded_at: at })}`.pipe(
      Effect.catchTag("SqlError", (error) =>
        isUniqueViolation(error) ? Effect.fail(new KeyAlreadyUsed({ key })) : Effect.die(error)
      )
    )
  })
