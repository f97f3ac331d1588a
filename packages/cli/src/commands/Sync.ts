import { Command, Options } from "@effect/cli"
import { originOf } from "@orw/server/App/Origin"
import * as Core from "@orw/server/Core"
import { KeySync } from "@orw/server/OpenRouter/KeySync"
import { SyncSettings } from "@orw/server/OpenRouter/SyncSettings"
import * as ApiKeys from "@orw/server/Projections/ApiKeys"
import * as Users from "@orw/server/Projections/Users"
import * as Settings from "@orw/server/Settings"
import * as Sync from "@orw/server/Sync"
import { Effect, Layer, Option, Stream } from "effect"
import * as Database from "../Database.js"
import { CliError, describeError } from "../Failure.js"
import { printLines } from "../Output.js"

const key = Options.text("key").pipe(Options.withDescription("Sync only this key (its id)"), Options.optional)
const user = Options.text("user").pipe(Options.withDescription("Sync only this user's keys (email)"), Options.optional)
const json = Options.boolean("json").pipe(Options.withDescription("One JSON object per key and line"))

const targets = (keyId: Option.Option<string>, email: Option.Option<string>) =>
  Effect.gen(function* () {
    if (Option.isSome(keyId)) {
      const key = yield* ApiKeys.summaryById(keyId.value)
      if (Option.isNone(key)) return yield* new CliError({ message: `No stored key with id ${keyId.value}` })
      return [key.value]
    }
    if (Option.isSome(email)) {
      const user = yield* Users.byEmail(email.value)
      if (Option.isNone(user)) return yield* new CliError({ message: `No user with email ${email.value}` })
      return yield* ApiKeys.summariesOf(user.value.id)
    }
    return yield* ApiKeys.polled
  })

/**
 * The server's sync (`Sync.layer`) over the server's core on the existing database file, with the same
 * settings as the server.
 */
const layer = Sync.layer.pipe(
  Layer.provideMerge(Database.onDatabase(Database.configuredDatabase, Core.layerDatabase)),
  // provideMerge: the run reads SYNC_CONCURRENCY from the same settings.
  Layer.provideMerge(Settings.layer()),
  Layer.catchAll((error) =>
    Layer.fail(error instanceof CliError ? error : new CliError({ message: describeError(error) }))
  )
)

/**
 * `orw sync [--key ID] [--user EMAIL]`: syncs keys with OpenRouter now, as the server's fibers do. Inactive
 * keys are not synced: `--key` of one fails, `--user` skips them.
 */
export const sync = Command.make("sync", { key, user, json }, (opts) =>
  Effect.gen(function* () {
    const keySync = yield* KeySync
    const settings = yield* SyncSettings
    const chosen = yield* targets(opts.key, opts.user)
    // One correlation id for the whole run: its events are found together in the audit log.
    const cliOrigin = originOf("cli")
    // With --json, no keys is no lines: stdout stays JSON lines only.
    if (chosen.length === 0) return yield* printLines(opts.json ? [] : ["No keys to sync"])
    let failed = 0
    const syncOne = (target: (typeof chosen)[number]) =>
      Effect.gen(function* () {
        const synced = yield* keySync.syncKey(target.id, cliOrigin, "cli").pipe(
          // The domain's rule: an inactive key is not synced. Asked for by id, that is an error, as over HTTP;
          // among a user's keys, it is skipped.
          Effect.map(Option.some),
          Effect.catchTag("KeyInactive", (refusal) =>
            Option.isSome(opts.key) ? new CliError({ message: refusal.message }) : Effect.succeedNone
          )
        )
        if (Option.isNone(synced)) {
          return opts.json
            ? JSON.stringify({ key_id: target.id, name: target.name, outcome: "skipped", error: null, recorded: [] })
            : `${target.id} (${target.name}): skipped - inactive`
        }
        const result = synced.value
        if (result.outcome !== "ok") failed++
        const recorded = result.recorded.map((e) => e.type)
        return opts.json
          ? JSON.stringify({
              key_id: target.id,
              name: target.name,
              outcome: result.outcome,
              error: result.error,
              recorded
            })
          : `${target.id} (${target.name}): ${result.outcome}${result.error === null ? "" : ` - ${result.error}`}; ` +
              (recorded.length === 0 ? "nothing new" : `recorded ${recorded.join(", ")}`)
      })
    // SYNC_CONCURRENCY keys at once, as the server's fibers; one line per key, in the order of the keys.
    yield* Stream.fromIterable(chosen).pipe(
      Stream.mapEffect(syncOne, { concurrency: settings.maxConcurrent }),
      Stream.runForEach((line) => printLines([line]))
    )
    if (failed > 0) return yield* new CliError({ message: `${failed} of ${chosen.length} key(s) did not sync` })
  }).pipe(
    Effect.mapError((error) => (error instanceof CliError ? error : new CliError({ message: describeError(error) })))
  )
).pipe(
  Command.withDescription("Sync stored keys with OpenRouter now (all active keys, one key, or one user's)"),
  Command.provide(layer)
)
