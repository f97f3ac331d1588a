import { Layer } from "effect"
import { AppConfig, type DotEnvOptions, layerDotEnv } from "./Config.js"
import { SyncSettings } from "./OpenRouter/SyncSettings.js"

/**
 * A process's settings: AppConfig and the sync's pacing, read once from the environment and `.env`
 * (the real environment wins). The server and `orw sync` provide it at their root; tests provide
 * `AppConfig.layerTest(...)` and `SyncSettings.Test(...)` instead.
 */
export const layer = (options: DotEnvOptions = {}) =>
  SyncSettings.Default.pipe(Layer.provideMerge(AppConfig.Default), Layer.provide(layerDotEnv(options)))
