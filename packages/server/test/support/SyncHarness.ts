import { SqlClient } from "@effect/sql"
import { ApiKeyCommands, ApiKeyId, maskKey, UserId } from "@orw/domain"
import { DateTime, Duration, Effect, Layer, Queue, Redacted } from "effect"
import { AppConfig } from "../../src/Config.js"
import * as Core from "../../src/Core.js"
import { KeyVault, keyHash } from "../../src/Crypto/KeyVault.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { EventBus } from "../../src/EventBus.js"
import { EventStore, type StoredEvent } from "../../src/EventStore.js"
import { SyncSettings } from "../../src/OpenRouter/SyncSettings.js"
import * as Sync from "../../src/Sync.js"
import { register, testMetadata } from "./Fixtures.js"

/** A test master key (64 hex = 32 bytes). */
export const TEST_MASTER_KEY = Redacted.make("5".repeat(64))

export const fastSettings = {
  interval: Duration.seconds(1),
  maxConcurrent: 4,
  retries: 3,
  retryBase: Duration.millis(5),
  validationInterval: Duration.hours(24)
}

/** The server's sync and core (`Sync.layer`, `Core.layerFile`) against the simulator at `url`, on `file`. */
export const syncLayer = (url: string, file = ":memory:", settings = fastSettings) =>
  Sync.layer.pipe(
    Layer.provideMerge(Core.layerFile(file)),
    Layer.provideMerge(SyncSettings.Test(settings)),
    Layer.provideMerge(
      AppConfig.layerTest({
        openRouterApiUrl: url,
        openRouterTimeout: Duration.seconds(2),
        encryptionKey: TEST_MASTER_KEY
      })
    )
  )

/** Registers a user (idempotent per email within a test). */
export const registerUser = (userId: string, email = `${userId}@example.com`) =>
  Effect.flatMap(Dispatcher, (d) => d.dispatch(register(userId, email), { metadata: testMetadata() }))

/** Stores an OpenRouter key the way the API does: sealed, its data key in the vault. */
export const storeKey = (userId: string, keyId: string, plaintext: string, name = keyId) =>
  Effect.gen(function* () {
    const vault = yield* KeyVault
    const dispatcher = yield* Dispatcher
    const secret = Redacted.make(plaintext)
    const { ciphertext, vaultRow } = yield* vault.seal(keyId, userId, secret)
    yield* dispatcher.dispatch(
      new ApiKeyCommands.AddKey({
        keyId: ApiKeyId.make(keyId),
        userId: UserId.make(userId),
        name,
        key: secret,
        label: maskKey(plaintext),
        keyHash: keyHash(secret),
        ciphertext,
        maxKeysPerUser: 10,
        at: yield* DateTime.now
      }),
      { metadata: testMetadata(), inTransaction: vault.storeInTransaction(vaultRow) }
    )
    return keyId
  })

/** How many events the log holds. */
export const eventCount = Effect.flatMap(EventStore, (store) => store.head)

/** Types of the events after `position`. */
export const eventTypesAfter = (position: number) =>
  Effect.flatMap(EventStore, (store) => Effect.map(store.readAll(position, 10_000), (es) => es.map((e) => e.type)))

export const sqlRows = <A extends object>(
  query: (sql: SqlClient.SqlClient) => Effect.Effect<ReadonlyArray<A>, unknown>
) => Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.orDie(query(sql)))

/**
 * Watches the events committed in this process (the EventBus, which the supervisor also follows), from
 * now on: `until(done)` waits, without polling, until the events seen so far satisfy `done`.
 */
export const watchEvents = Effect.gen(function* () {
  const queue = yield* Effect.flatMap(EventBus, (bus) => bus.subscribe)
  const seen: Array<StoredEvent> = []
  const until = (done: (seen: ReadonlyArray<StoredEvent>) => boolean, timeout: Duration.DurationInput = "10 seconds") =>
    Effect.gen(function* () {
      while (!done(seen)) seen.push(yield* Queue.take(queue))
      return seen as ReadonlyArray<StoredEvent>
    }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new Error(`events not seen in time; saw ${seen.map((e) => `${e.type}:${e.streamId}`).join(", ")}`)
      }),
      Effect.orDie
    )
  return { until, seen: seen as ReadonlyArray<StoredEvent> }
})

/** Whether `seen` holds an event of `type` on the stream of key `keyId`. */
export const sawKeyEvent = (seen: ReadonlyArray<StoredEvent>, type: string, keyId: string) =>
  seen.some((e) => e.type === type && (e.streamId === `key-${keyId}` || e.streamId === `usage-${keyId}`))
