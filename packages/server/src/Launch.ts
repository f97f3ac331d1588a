import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger } from "effect"
import { AppConfig } from "./Config.js"
import { listen } from "./Http/Server.js"
import * as Log from "./Logging.js"
import * as Settings from "./Settings.js"

/** Listens on AppConfig's HOST:PORT. */
export const ListenFromConfig = Layer.unwrapEffect(Effect.map(AppConfig, ({ host, port }) => listen({ host, port })))

/**
 * LOG_LEVEL (Debug when DEBUG=true); LOG_FORMAT: JSON lines (production's default) or readable text
 * (pretty on a terminal, logfmt into a pipe).
 */
export const Logging = Layer.unwrapEffect(
  Effect.map(AppConfig, ({ logLevel, logFormat }) =>
    Layer.merge(Logger.minimumLogLevel(logLevel), Log.forFormat(logFormat))
  )
)

/** Provides the settings (see {@link Settings.layer}) below everything else. */
export const withSettings = <A, E, R>(layer: Layer.Layer<A, E, R>) => layer.pipe(Layer.provide(Settings.layer()))

const isTagged = <T extends string>(error: unknown, tag: T): error is { readonly _tag: T } =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === tag

/** The Node error code inside a ServeError (EADDRINUSE, EACCES), if any. */
const listenCode = (error: unknown): string | undefined => {
  if (!isTagged(error, "ServeError") || !("cause" in error)) return undefined
  const cause = error.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: "is already in use (another server?): stop it or set PORT",
  EACCES: "needs privileges this user lacks: choose a PORT above 1023",
  EADDRNOTAVAIL: "is not an address of this machine: check HOST"
}

/**
 * Runs a program until SIGINT/SIGTERM, which close its layers in order. A bad setting, a port that cannot
 * be listened on, a database another server holds or a newer release migrated is one line and exit code 1,
 * not a stack trace.
 */
export const runMain = <A, E, R extends never>(program: Effect.Effect<A, E, R>) =>
  program.pipe(
    Effect.catchAll((error) => {
      const exit1 = Effect.sync(() => {
        process.exitCode = 1
      })
      const code = listenCode(error)
      if (code !== undefined && code in LISTEN_ERRORS) {
        return Effect.flatMap(AppConfig, ({ host, port }) =>
          Console.error(`Port ${port} on ${host} ${LISTEN_ERRORS[code]}.`)
        ).pipe(
          Effect.provide(Settings.layer()),
          Effect.orElse(() => Console.error(`Cannot listen: ${code}`)),
          Effect.zipRight(exit1)
        )
      }
      const oneLine = ["InvalidConfig", "DataDirLocked", "DatabaseTooNew"].some((tag) => isTagged(error, tag))
      if (
        oneLine &&
        typeof error === "object" &&
        error !== null &&
        "message" in error &&
        typeof error.message === "string"
      ) {
        return Effect.zipRight(Console.error(error.message), exit1)
      }
      return Effect.fail(error)
    }),
    NodeRuntime.runMain({ disablePrettyLogger: true })
  )
