import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { AppConfig, layerDotEnv } from "./Config.js"
import { listen } from "./Http/Server.js"
import { SyncSettings } from "./OpenRouter/SyncSettings.js"

/** Listens on AppConfig's HOST:PORT. */
export const ListenFromConfig = Layer.unwrapEffect(Effect.map(AppConfig, ({ host, port }) => listen({ host, port })))

/** Provides the settings: AppConfig and the sync's, with `.env` read below everything else. */
export const withSettings = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  layer.pipe(Layer.provide(SyncSettings.layerConfig), Layer.provide(AppConfig.Default), Layer.provide(layerDotEnv()))

/**
 * Runs a program until SIGINT/SIGTERM, which close its layers in order. A bad setting is one
 * line naming the variable and exit code 1, not a stack trace.
 */
export const runMain = <A, E, R extends never>(program: Effect.Effect<A, E, R>) =>
  program.pipe(
    Effect.catchIf(
      (error): error is E & { readonly _tag: "InvalidConfig"; readonly message: string } =>
        typeof error === "object" && error !== null && "_tag" in error && error._tag === "InvalidConfig",
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
