import * as NodeFs from "node:fs"
import type { SqlClient } from "@effect/sql"
import { AppConfig, layerDotEnv, StorageConfig } from "@orw/server/Config"
import * as Core from "@orw/server/Core"
import { Database, describeDatabase } from "@orw/server/DatabaseUrl"
import type { EventStore } from "@orw/server/EventStore"
import type { Projector } from "@orw/server/Projector"
import { Effect, Layer } from "effect"
import { CliError, describeCause, describeError } from "./Failure.js"

/**
 * The database the CLI works on. A SQLite file must exist: an admin tool that silently created an empty
 * database would report an empty log instead of a wrong path. A PostgreSQL server is connected to (and
 * migrated when older, like the server does).
 */
export const existing = (database: Database): Effect.Effect<Database, CliError> =>
  database._tag === "Postgres"
    ? Effect.succeed(database)
    : database.filename === ":memory:"
      ? Effect.fail(
          new CliError({ message: "DATABASE_URL names an in-memory database; point it at the server's file" })
        )
      : NodeFs.existsSync(database.filename)
        ? Effect.succeed(database)
        : Effect.fail(
            new CliError({ message: `Database file not found: ${database.filename} (set DATABASE_URL or DATA_DIR)` })
          )

/** The database of DATABASE_URL / DATA_DIR (StorageConfig alone: reading the log needs no secrets). */
export const storageDatabase = StorageConfig.pipe(
  Effect.mapError((error) => new CliError({ message: `Invalid configuration: ${describeError(error)}` })),
  Effect.flatMap(({ database }) => existing(database))
)

/** The database of AppConfig, for the commands that need AppConfig anyway (its secrets). */
export const configuredDatabase = Effect.flatMap(AppConfig, (config) => existing(config.database))

/**
 * The SQLite file DATABASE_URL / DATA_DIR name, existing or not (`orw restore` may create it). On PostgreSQL
 * backups are the database's own business: one line says so.
 */
export const storageFile = StorageConfig.pipe(
  Effect.mapError((error) => new CliError({ message: `Invalid configuration: ${describeError(error)}` })),
  Effect.flatMap(({ database }) =>
    database._tag === "Postgres"
      ? Effect.fail(
          new CliError({
            message: "DATABASE_URL names PostgreSQL: back it up and restore it with pg_dump and pg_restore"
          })
        )
      : database.filename === ":memory:"
        ? Effect.fail(
            new CliError({ message: "DATABASE_URL names an in-memory database; point it at the server's file" })
          )
        : Effect.succeed(database.filename)
  ),
  Effect.provide(layerDotEnv())
)

/** An existing SQLite file (for backup: the source must exist). */
export const existingFile = (file: string) => Effect.map(existing(Database.Sqlite({ filename: file })), () => file)

/** `build(database)` over an existing database; one that cannot be opened is one CliError (no password in it). */
export const onDatabase = <A, E, R, E2, R2>(
  database: Effect.Effect<Database, E2, R2>,
  build: (database: Database) => Layer.Layer<A, E, R>
): Layer.Layer<A, E2 | CliError, R | R2> =>
  Layer.unwrapEffect(
    Effect.map(database, (db) =>
      build(db).pipe(
        Layer.catchAllCause((cause) =>
          Layer.fail(new CliError({ message: `Cannot open database ${describeDatabase(db)}: ${describeCause(cause)}` }))
        )
      )
    )
  )

/**
 * The event store, projector and SQL client over the existing database (migrated if it is older
 * than the code): `Core.storeWith`, which unlike the server's core does not catch projections up on
 * open, so `projections status` shows the lag as it is and reading commands change nothing. Like the
 * server, it reads `.env` below the real environment.
 */
export const layer: Layer.Layer<EventStore | Projector | SqlClient.SqlClient, CliError> = onDatabase(
  storageDatabase,
  (database) => Core.storeWith(Core.sqlOf(database))
).pipe(
  Layer.provide(layerDotEnv()),
  Layer.catchAll((error) => Layer.fail(error instanceof CliError ? error : new CliError({ message: error.message })))
)
