import { Command } from "@effect/cli"
import { AppConfig, layerDotEnv } from "@orw/server/Config"
import * as Core from "@orw/server/Core"
import { makeKeyVault } from "@orw/server/Crypto/KeyVault"
import { Config, Effect, Layer, Option } from "effect"
import * as Database from "../Database.js"
import { CliError, describeError, missingSubcommand } from "../Failure.js"
import { printLines } from "../Output.js"

/**
 * `orw keys rotate-master-key`: re-wraps every stored key's data key under a new master key,
 * in one transaction. Online: restart the server with ENCRYPTION_KEY=new and
 * ENCRYPTION_KEY_PREVIOUS=old, then run this (it rotates to ENCRYPTION_KEY). Offline: run it
 * with ENCRYPTION_KEY=old and NEW_ENCRYPTION_KEY=new, then start with ENCRYPTION_KEY=new.
 */
export const rotateMasterKey = Command.make("rotate-master-key", {}, () =>
  Effect.gen(function* () {
    const config = yield* AppConfig
    const next = yield* Config.redacted("NEW_ENCRYPTION_KEY").pipe(Config.option)
    const vault = yield* makeKeyVault(config.encryptionKey, Option.toArray(config.encryptionKeyPrevious))
    const target = Option.getOrElse(next, () => config.encryptionKey)
    const { rewrapped, masterKeyId } = yield* vault.rotateMasterKey(target)
    yield* printLines([`Re-wrapped ${rewrapped} data key(s); every stored key is now under master key ${masterKeyId}`])
  }).pipe(
    Effect.mapError((error) => (error instanceof CliError ? error : new CliError({ message: describeError(error) })))
  )
).pipe(
  Command.withDescription("Re-wrap every stored key's data key under ENCRYPTION_KEY (or NEW_ENCRYPTION_KEY)"),
  Command.provide(
    Database.onDatabase(Database.configuredDatabase, (database) => Core.storeWith(Core.sqlOf(database))).pipe(
      Layer.provideMerge(AppConfig.Default),
      Layer.provide(layerDotEnv())
    )
  )
)

/** `orw keys`: stored OpenRouter keys. */
export const keys = Command.make("keys", {}, () => missingSubcommand("orw keys", "rotate-master-key")).pipe(
  Command.withDescription("Stored OpenRouter keys: master-key rotation"),
  Command.withSubcommands([rotateMasterKey])
)
