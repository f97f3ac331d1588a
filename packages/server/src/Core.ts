import type { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { CommandHandler } from "./CommandHandler.js"
import { Dispatcher } from "./Dispatcher.js"
import { EventBus } from "./EventBus.js"
import { EventStore } from "./EventStore.js"
import { Projector } from "./Projector.js"
import * as Sql from "./Sql.js"

/** Brings every projection up to date (rebuilding changed ones) before anything is served. */
const ProjectionsReady = Layer.effectDiscard(Effect.flatMap(Projector, (projector) => projector.start))

/** The event-sourced core over a given SQL layer. */
export const layerWith = <E, R>(sql: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Layer.mergeAll(
    Dispatcher.Default,
    CommandHandler.Default,
    EventStore.Default,
    Projector.Default,
    EventBus.Default
  ).pipe(
    Layer.provideMerge(ProjectionsReady),
    Layer.provideMerge(Layer.mergeAll(EventStore.Default, Projector.Default)),
    Layer.provideMerge(sql)
  )

/** The core over the SQLite file at `filename`. */
export const layerFile = (filename: string) => layerWith(Sql.layerFile(filename))

/** The core over the database named by DATABASE_URL / DATA_DIR. */
export const layer = layerWith(Sql.layer)
