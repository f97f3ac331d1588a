import { Command, Options } from "@effect/cli"
import { SqlClient } from "@effect/sql"
import * as Core from "@orw/server/Core"
import { KeySync } from "@orw/server/OpenRouter/KeySync"
import * as Settings from "@orw/server/Settings"
import * as Sync from "@orw/server/Sync"
import { Effect, Layer, Option } from "effect"
import * as Database from "../Database.js"
import { CliError, describeError } from "../Failure.js"
import { printLines } from "../Output.js"

const key = Options.text("key").pipe(Options.withDescription("Sync only this key (its id)"), Options.optional)
const user = Options.text("user").pipe(Options.withDescription("Sync only this user's keys (email)"), Options.optional)
const json = Options.boolean("json").pipe(Options.withDescription("One JSON object per key and line"))

interface Target {
  readonly id: string
  readonly name: string
}

const targets = (keyId: Option.Option<string>, email: Option.Option<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (Option.isSome(keyId)) {
      const rows = yield* sql<Target>`SELECT id, name FROM api_keys WHERE id = ${keyId.value}`
      if (rows.length === 0) return yield* new CliError({ message: `No stored key with id ${keyId.value}` })
      return rows
    }
    if (Option.isSome(email)) {
      const users = yield* sql<{ id: string }>`SELECT id FROM users WHERE email = ${email.value.trim().toLowerCase()}`
      if (users[0] === undefined) return yield* new CliError({ message: `No user with email ${email.value}` })
      return yield* sql<Target>`SELECT id, name FROM api_keys WHERE user_id = ${users[0].id} ORDER BY created_at, id`
    }
    return yield* sql<Target>`SELECT id, name FROM api_keys WHERE is_active = 1 AND is_invalid = 0 ORDER BY created_at, id`
  })

/**
 * The server's sync (`Sync.layer`) over the server's core on the existing database file, with the same
 * settings as the server.
 */
const layer = Sync.layer.pipe(
  Layer.provideMerge(Database.onFile(Database.configuredFile, Core.layerFile)),
  Layer.provide(Settings.layer()),
  Layer.catchAll((error) =>
    Layer.fail(error instanceof CliError ? error : new CliError({ message: describeError(error) }))
  )
)

/** `orw sync [--key ID] [--user EMAIL]`: syncs keys with OpenRouter now, as the server's fibers do. */
export const sync = Command.make("sync", { key, user, json }, (opts) =>
  Effect.gen(function* () {
    const keySync = yield* KeySync
    const chosen = yield* targets(opts.key, opts.user)
    if (chosen.length === 0) return yield* printLines(["No keys to sync"])
    let failed = 0
    for (const target of chosen) {
      const result = yield* keySync.syncKey(target.id, { source: "cli", actor: "cli" })
      if (result.outcome !== "ok") failed++
      const recorded = result.recorded.map((e) => e.type)
      yield* printLines([
        opts.json
          ? JSON.stringify({
              key_id: target.id,
              name: target.name,
              outcome: result.outcome,
              error: result.error,
              recorded
            })
          : `${target.id} (${target.name}): ${result.outcome}${result.error === null ? "" : ` - ${result.error}`}; ` +
            (recorded.length === 0 ? "nothing new" : `recorded ${recorded.join(", ")}`)
      ])
    }
    if (failed > 0) return yield* new CliError({ message: `${failed} of ${chosen.length} key(s) did not sync` })
  }).pipe(
    Effect.mapError((error) => (error instanceof CliError ? error : new CliError({ message: describeError(error) })))
  )
).pipe(
  Command.withDescription("Sync stored keys with OpenRouter now (all active keys, one key, or one user's)"),
  Command.provide(layer)
)
