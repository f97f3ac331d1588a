import * as NodeFs from "node:fs"
import type { SqlClient } from "@effect/sql"
import { EventStore } from "@orw/server/EventStore"
import { Projector } from "@orw/server/Projector"
import * as Sql from "@orw/server/Sql"
import { Effect, Layer } from "effect"
import { CliError, describeCause, describeError } from "./Failure.js"

/**
 * The database file the CLI works on (DATABASE_URL, else `<DATA_DIR>/app.db`). It must
 * exist: an admin tool that silently created an empty database would report an empty
 * log instead of a wrong path.
 */
export const databaseFile = Effect.gen(function* () {
  const file = yield* Sql.DatabaseFile.pipe(
    Effect.mapError((error) => new CliError({ message: `Invalid configuration: ${describeError(error)}` }))
  )
  if (file === ":memory:") {
    return yield* new CliError({ message: "DATABASE_URL names an in-memory database; point it at the server's file" })
  }
  if (!NodeFs.existsSync(file)) {
    return yield* new CliError({ message: `Database file not found: ${file} (set DATABASE_URL or DATA_DIR)` })
  }
  return file
})

/**
 * The event store, projector and SQL client over the existing database file (migrated if
 * it is older than the code). Unlike the server's core it does not catch projections up on
 * open, so `projections status` shows the lag as it is and reading commands change nothing.
 */
export const layer: Layer.Layer<EventStore | Projector | SqlClient.SqlClient, CliError> = Layer.unwrapEffect(
  Effect.map(databaseFile, (file) =>
    Layer.mergeAll(EventStore.Default, Projector.Default).pipe(
      Layer.provideMerge(Sql.layerFile(file)),
      Layer.catchAllCause((cause) =>
        Layer.fail(new CliError({ message: `Cannot open database ${file}: ${describeCause(cause)}` }))
      )
    )
  )
)
