import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { CommandHandler } from "./CommandHandler.js"
import { AppConfig } from "./Config.js"
import { Database } from "./DatabaseUrl.js"
import { Dispatcher } from "./Dispatcher.js"
import { EventBus } from "./EventBus.js"
import { EventStore } from "./EventStore.js"
import { Projector } from "./Projector.js"
import * as Sql from "./Sql.js"

/** Brings every projection up to date (rebuilding changed ones) before anything is served. */
const ProjectionsReady = Layer.effectDiscard(Effect.flatMap(Projector, (projector) => projector.start))

/**
 * The event store and the projector over `sql`, projections left as they are: for readers that must
 * see the log and the lag as they are (the CLI's `events`, `replay`, `projections`).
 */
export const storeWith = <E, R>(sql: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Layer.mergeAll(EventStore.Default, Projector.Default).pipe(Layer.provideMerge(sql))

/**
 * The event-sourced core over `sql`: store, projections (caught up first), command handler, dispatcher
 * and event bus.
 * The services bring their own dependencies (one instance each); this only puts the catch-up first.
 */
export const layerWith = <E, R>(sql: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Layer.mergeAll(Dispatcher.Default, CommandHandler.Default, EventBus.Default).pipe(
    Layer.provideMerge(ProjectionsReady),
    Layer.provideMerge(storeWith(sql))
  )

/** The core over the SQLite file at `filename` (tests: a temp file or `:memory:`). */
export const layerFile = (filename: string) => layerWith(Sql.layerFile(filename))

/** The SQL client of `database`, opened and migrated. */
export const sqlOf = (database: Database) =>
  Database.$match(database, {
    Sqlite: ({ filename }): Layer.Layer<SqlClient.SqlClient, unknown> => Sql.layerFile(filename),
    Postgres: ({ url }) => Sql.layerPostgres(url)
  })

/** The core over `database`. */
export const layerDatabase = (database: Database) => layerWith(sqlOf(database))

/** The core over AppConfig's database (DATABASE_URL, else `<DATA_DIR>/app.db`): what the server runs on. */
export const layer = Layer.unwrapEffect(Effect.map(AppConfig, (config) => layerDatabase(config.database)))
