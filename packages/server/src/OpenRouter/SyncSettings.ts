import { Config, Context, Duration, Effect, Layer } from "effect"

/** How the sync paces itself. Defaults suit production; tests shorten the delays. */
export interface SyncSettingsShape {
  /** Time between two syncs of one key (SYNC_INTERVAL_MINUTES). */
  readonly interval: Duration.Duration
  /** At most this many upstream calls at once, over all keys (SYNC_CONCURRENCY). */
  readonly maxConcurrent: number
  /** Retries of one upstream call before the sync gives up (SYNC_RETRIES). */
  readonly retries: number
  /** First backoff delay; it doubles per retry, with jitter (SYNC_RETRY_BASE_MS). */
  readonly retryBase: Duration.Duration
  /** Every active key is validated against upstream at least this often. */
  readonly validationInterval: Duration.Duration
}

export class SyncSettings extends Context.Reference<SyncSettings>()("orw/SyncSettings", {
  defaultValue: (): SyncSettingsShape => ({
    interval: Duration.minutes(60),
    maxConcurrent: 4,
    retries: 3,
    retryBase: Duration.seconds(1),
    validationInterval: Duration.hours(24)
  })
}) {
  /** Settings from the environment. */
  static readonly layerConfig = Layer.effect(
    SyncSettings,
    Effect.gen(function* () {
      const interval = yield* Config.number("SYNC_INTERVAL_MINUTES").pipe(Config.withDefault(60))
      const maxConcurrent = yield* Config.integer("SYNC_CONCURRENCY").pipe(Config.withDefault(4))
      const retries = yield* Config.integer("SYNC_RETRIES").pipe(Config.withDefault(3))
      const retryBaseMs = yield* Config.integer("SYNC_RETRY_BASE_MS").pipe(Config.withDefault(1000))
      return {
        interval: Duration.millis(Math.max(interval, 0.05) * 60_000),
        maxConcurrent: Math.max(1, maxConcurrent),
        retries: Math.max(0, retries),
        retryBase: Duration.millis(Math.max(1, retryBaseMs)),
        validationInterval: Duration.hours(24)
      }
    })
  )
}
