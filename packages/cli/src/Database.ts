import * as NodeFs from "node:fs"
import type { SqlClient } from "@effect/sql"
import { AppConfig, layerDotEnv, StorageConfig } from "@orw/server/Config"
import * as Core from "@orw/server/Core"
import type { EventStore } from "@orw/server/EventStore"
import type { Projector } from "@orw/server/Projector"
import * as Sql from "@orw/server/Sql"
import { Effect, Layer } from "effect"
import { CliError, describeCause, describeError } from "./Failure.js"

/**
 * The database file the CLI works on, which must exist: an admin tool that silently created an empty
 * database would report an empty log instead of a wrong path.
 */
export const existing = (file: string) =>
  file === ":memory:"
    ? Effect.fail(new CliError({ message: "DATABASE_URL names an in-memory database; point it at the server's file" }))
    : NodeFs.existsSync(file)
      ? Effect.succeed(file)
      : Effect.fail(new CliError({ message: `Database file not found: ${file} (set DATABASE_URL or DATA_DIR)` }))

/** The file of DATABASE_URL / DATA_DIR (StorageConfig alone: reading the log needs no secrets). */
export const databaseFile = StorageConfig.pipe(
  Effect.mapError((error) => new CliError({ message: `Invalid configuration: ${describeError(error)}` })),
  Effect.flatMap(({ databaseFile }) => existing(databaseFile))
)

/** The file DATABASE_URL / DATA_DIR name, existing or not (`orw restore` may create it). */
export const storageFile = StorageConfig.pipe(
  Effect.mapError((error) => new CliError({ message: `Invalid configuration: ${describeError(error)}` })),
  Effect.flatMap(({ databaseFile }) =>
    databaseFile === ":memory:"
      ? Effect.fail(
          new CliError({ message: "DATABASE_URL names an in-memory database; point it at the server's file" })
        )
      : Effect.succeed(databaseFile)
  ),
  Effect.provide(layerDotEnv())
)

/** The file of AppConfig, for the commands that need AppConfig anyway (its secrets). */
export const configuredFile = Effect.flatMap(AppConfig, (config) => existing(config.databaseFile))

/** `build(file)` over an existing database file; a file that cannot be opened is one CliError. */
export const onFile = <A, E, R, E2, R2>(
  file: Effect.Effect<string, E2, R2>,
  build: (file: string) => Layer.Layer<A, E, R>
): Layer.Layer<A, E2 | CliError, R | R2> =>
  Layer.unwrapEffect(
    Effect.map(file, (path) =>
      build(path).pipe(
        Layer.catchAllCause((cause) =>
          Layer.fail(new CliError({ message: `Cannot open database ${path}: ${describeCause(cause)}` }))
        )
      )
    )
  )

/**
 * The event store, projector and SQL client over the existing database file (migrated if it is older
 * than the code): `Core.storeWith`, which unlike the server's core does not catch projections up on
 * open, so `projections status` shows the lag as it is and reading commands change nothing. Like the
 * server, it reads `.env` below the real environment.
 */
export const layer: Layer.Layer<EventStore | Projector | SqlClient.SqlClient, CliError> = onFile(databaseFile, (file) =>
  Core.storeWith(Sql.layerFile(file))
).pipe(
  Layer.provide(layerDotEnv()),
  Layer.catchAll((error) => Layer.fail(error instanceof CliError ? error : new CliError({ message: error.message })))
)
