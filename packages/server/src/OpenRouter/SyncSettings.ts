import { Config, Duration, Effect, Layer } from "effect"
import { AppConfig } from "../Config.js"

/** How the sync paces itself. Defaults suit production; tests shorten the delays. */
export interface SyncSettingsShape {
  /** Time between two syncs of one key (SYNC_INTERVAL_MINUTES, read by AppConfig). */
  readonly interval: Duration.Duration
  /** At most this many upstream calls at once, over all keys (SYNC_CONCURRENCY). */
  readonly maxConcurrent: number
  /** Retries of one upstream call before the sync gives up (SYNC_RETRIES). */
  readonly retries: number
  /** First backoff delay; it doubles per retry, with jitter (SYNC_RETRY_BASE_MS). */
  readonly retryBase: Duration.Duration
  /** Every active key is validated against upstream at least this often. */
  readonly validationInterval: Duration.Duration
  /**
   * How often the polled keys are reconciled with the database besides on key events: changes made by
   * another process, and keys whose instance died (their lease freed). A minute; tests shorten it
   * (SYNC_RECONCILE_MS).
   */
  readonly reconcileInterval: Duration.Duration
  /** `POST /analytics/query` calls a minute over all keys (OpenRouter allows 64). */
  readonly analyticsPerMinute: number
  /** Each polled key is reconciled with OpenRouter's figures once in this time (a day; openrouter-api.md, item 7). */
  readonly usageReconciliationInterval: Duration.Duration
  /** How often the supervisor looks for keys due for reconciliation (an hour; the first look a minute after start). */
  readonly usageReconciliationCheck: Duration.Duration
}

const defaults: SyncSettingsShape = {
  interval: Duration.minutes(60),
  maxConcurrent: 4,
  retries: 3,
  retryBase: Duration.seconds(1),
  validationInterval: Duration.hours(24),
  reconcileInterval: Duration.minutes(1),
  analyticsPerMinute: 64,
  usageReconciliationInterval: Duration.hours(24),
  usageReconciliationCheck: Duration.hours(1)
}

/**
 * The sync's pacing, a required service: a composition that forgets it does not compile (a default
 * here once hid a missing layer). The interval comes from AppConfig; the knobs only the sync uses are
 * read here, once.
 */
export class SyncSettings extends Effect.Service<SyncSettings>()("orw/SyncSettings", {
  effect: Effect.gen(function* () {
    const { syncIntervalMinutes } = yield* AppConfig
    const maxConcurrent = yield* Config.integer("SYNC_CONCURRENCY").pipe(Config.withDefault(defaults.maxConcurrent))
    const retries = yield* Config.integer("SYNC_RETRIES").pipe(Config.withDefault(defaults.retries))
    const retryBaseMs = yield* Config.integer("SYNC_RETRY_BASE_MS").pipe(Config.withDefault(1000))
    const reconcileMs = yield* Config.integer("SYNC_RECONCILE_MS").pipe(Config.withDefault(60_000))
    return {
      // The demo's test runs at 0.05 minutes; anything shorter would spin.
      interval: Duration.millis(Math.max(syncIntervalMinutes, 0.05) * 60_000),
      maxConcurrent: Math.max(1, maxConcurrent),
      retries: Math.max(0, retries),
      retryBase: Duration.millis(Math.max(1, retryBaseMs)),
      validationInterval: defaults.validationInterval,
      // Never above the minute the takeover bound (two minutes) is built on; never a spin.
      reconcileInterval: Duration.millis(Math.min(60_000, Math.max(100, reconcileMs))),
      analyticsPerMinute: defaults.analyticsPerMinute,
      usageReconciliationInterval: defaults.usageReconciliationInterval,
      usageReconciliationCheck: defaults.usageReconciliationCheck
    } satisfies SyncSettingsShape
  })
}) {
  /** Fixed settings for tests: the production defaults with `overrides`. */
  static readonly Test = (overrides: Partial<SyncSettingsShape> = {}): Layer.Layer<SyncSettings> =>
    Layer.succeed(SyncSettings, SyncSettings.make({ ...defaults, ...overrides }))
}
