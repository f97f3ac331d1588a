import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger } from "effect"
import { AppConfig } from "./Config.js"
import { listen } from "./Http/Server.js"
import * as Settings from "./Settings.js"

/** Listens on AppConfig's HOST:PORT. */
export const ListenFromConfig = Layer.unwrapEffect(Effect.map(AppConfig, ({ host, port }) => listen({ host, port })))

/** LOG_LEVEL (Debug when DEBUG=true); logfmt lines unless a person is watching the terminal. */
export const Logging = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ logLevel }) =>
    Layer.merge(Logger.minimumLogLevel(logLevel), process.stdout.isTTY ? Logger.pretty : Logger.logFmt)
  )
)

/** Provides the settings (see {@link Settings.layer}) below everything else. */
export const withSettings = <A, E, R>(layer: Layer.Layer<A, E, R>) => layer.pipe(Layer.provide(Settings.layer()))

/**
 * Runs a program until SIGINT/SIGTERM, which close its layers in order. A bad setting is one
 * line naming the variable and exit code 1, not a stack trace; so is a database another server holds.
 */
export const runMain = <A, E, R extends never>(program: Effect.Effect<A, E, R>) =>
  program.pipe(
    Effect.catchIf(
      (error): error is E & { readonly _tag: "InvalidConfig"; readonly message: string } =>
        typeof error === "object" &&
        error !== null &&
        "_tag" in error &&
        (error._tag === "InvalidConfig" || error._tag === "DataDirLocked"),
      (error) =>
        Effect.zipRight(
          Console.error(error.message),
          Effect.sync(() => {
            process.exitCode = 1
          })
        )
    ),
    NodeRuntime.runMain({ disablePrettyLogger: true })
  )
