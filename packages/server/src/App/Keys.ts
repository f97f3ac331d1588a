import * as NodeCrypto from "node:crypto"
import {
  ApiKeyCommands,
  ApiKeyId,
  IdempotencyKeyReused,
  KeyForbidden,
  KeyNotFound,
  maskKey,
  microsToUsd,
  type UserId
} from "@orw/domain"
import { KeyList, type KeyRow, RecordedEvent, SyncResponse } from "@orw/domain/Api"
import { DateTime, Effect, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { KeyVault, keyHash } from "../Crypto/KeyVault.js"
import { Dispatcher } from "../Dispatcher.js"
import type { StoredEvent } from "../EventStore.js"
import { alreadyDone, idempotentId } from "../Idempotency.js"
import { KeySync } from "../OpenRouter/KeySync.js"
import * as ApiKeys from "../Projections/ApiKeys.js"
import { metadataOf, type Origin } from "./Origin.js"

const usd = (micros: number | null) => (micros === null ? null : microsToUsd(micros))

/** What a sync recorded, one line per event, without anything secret. */
const summarize = ({ event }: StoredEvent): RecordedEvent => {
  switch (event._tag) {
    case "UsageRecorded":
      return new RecordedEvent({
        type: event._tag,
        date: event.date,
        model: event.model,
        requests: event.totals.requests,
        cost: microsToUsd(event.totals.cost)
      })
    case "KeyStatusRecorded":
      return new RecordedEvent({
        type: event._tag,
        usage_total: microsToUsd(event.status.usage),
        limit_remaining: usd(event.status.limitRemaining)
      })
    case "KeySyncFailed":
      return new RecordedEvent({ type: event._tag, error: event.error })
    default:
      return new RecordedEvent({ type: event._tag })
  }
}

/** The user's stored OpenRouter keys: add (sealed by the KeyVault), edit, delete (shredded), sync now. */
export class Keys extends Effect.Service<Keys>()("orw/App/Keys", {
  effect: Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const vault = yield* KeyVault
    const config = yield* AppConfig
    const keySync = yield* KeySync

    /** The key's row if `userId` owns it; 404 for an unknown key, 403 for another user's. */
    const owned = (userId: UserId, keyId: ApiKeyId) =>
      Effect.flatMap(ApiKeys.rowById(keyId), (found): Effect.Effect<KeyRow, KeyNotFound | KeyForbidden> => {
        if (Option.isNone(found)) return Effect.fail(new KeyNotFound())
        const { owner, row } = found.value
        return owner === userId ? Effect.succeed(row) : Effect.fail(new KeyForbidden())
      })

    const list = Effect.fn("Keys.list")(function* (userId: UserId) {
      const items = yield* ApiKeys.rowsOf(userId)
      return new KeyList({ items, total: items.length })
    })

    /**
     * Stores a key. With an idempotency key the key's id is derived from it, so a repeat answers with
     * the key the first request stored (409 if it was deleted since).
     */
    const add = Effect.fn("Keys.add")(function* (
      userId: UserId,
      input: {
        readonly name: string
        readonly key: Redacted.Redacted<string>
        readonly idempotencyKey?: string | undefined
      },
      origin: Origin
    ) {
      const namespaced = input.idempotencyKey === undefined ? undefined : `user:${userId}:keys:${input.idempotencyKey}`
      const keyId = ApiKeyId.make(namespaced === undefined ? NodeCrypto.randomUUID() : idempotentId(namespaced))
      if (namespaced !== undefined && (yield* alreadyDone(namespaced))) {
        return yield* owned(userId, keyId).pipe(Effect.mapError(() => new IdempotencyKeyReused()))
      }
      const secret = Redacted.make(Redacted.value(input.key).trim())
      const { ciphertext, vaultRow } = yield* vault.seal(keyId, userId, secret)
      const command = new ApiKeyCommands.AddKey({
        keyId,
        userId: userId,
        name: input.name.trim(),
        key: secret,
        label: maskKey(Redacted.value(secret)),
        keyHash: keyHash(secret),
        ciphertext,
        maxKeysPerUser: config.maxApiKeysPerUser,
        at: yield* DateTime.now
      })
      yield* dispatcher.dispatch(command, {
        metadata: metadataOf(origin, userId),
        idempotencyKey: namespaced,
        inTransaction: vault.storeInTransaction(vaultRow)
      })
      return yield* owned(userId, keyId).pipe(Effect.orDie)
    })

    /**
     * Renames and/or (de)activates a key as ONE command, so both parts commit in one transaction: a 409
     * never leaves half a change. An empty change answers the row as it is.
     */
    const update = Effect.fn("Keys.update")(function* (
      userId: UserId,
      keyId: ApiKeyId,
      change: { readonly name?: string | undefined; readonly isActive?: boolean | undefined },
      origin: Origin
    ) {
      yield* owned(userId, keyId)
      const command = new ApiKeyCommands.EditKey({
        keyId: keyId,
        userId: userId,
        ...(change.name === undefined ? {} : { name: change.name.trim() }),
        ...(change.isActive === undefined ? {} : { isActive: change.isActive }),
        at: yield* DateTime.now
      })
      yield* dispatcher.dispatch(command, { metadata: metadataOf(origin, userId) })
      return yield* owned(userId, keyId)
    })

    /** Deletes a key; its data key is destroyed in the same transaction. */
    const remove = Effect.fn("Keys.remove")(function* (userId: UserId, keyId: ApiKeyId, origin: Origin) {
      const command = new ApiKeyCommands.DeleteKey({
        keyId: keyId,
        userId: userId,
        at: yield* DateTime.now
      })
      yield* dispatcher.dispatch(command, { metadata: metadataOf(origin, userId) })
    })

    /** Syncs the key with OpenRouter now; also 200 when upstream refused the key (the row shows `invalid`). */
    const sync = Effect.fn("Keys.sync")(function* (userId: UserId, keyId: ApiKeyId, origin: Origin) {
      yield* owned(userId, keyId)
      const result = yield* keySync.syncKey(keyId, origin, userId)
      return new SyncResponse({
        key: yield* owned(userId, keyId),
        outcome: result.outcome,
        error: result.error,
        recorded: result.recorded.map(summarize)
      })
    })

    /**
     * Sets the key's OpenRouter limit and reset period (written back through the user's management key), then
     * syncs the key at once so its `/key` snapshot confirms the change; answers the row afterwards.
     */
    const setLimit = Effect.fn("Keys.setLimit")(function* (
      userId: UserId,
      keyId: ApiKeyId,
      change: { readonly limit: number | null; readonly limitReset: ApiKeyCommands.LimitReset },
      origin: Origin
    ) {
      yield* owned(userId, keyId)
      yield* keySync.writeLimit(keyId, userId, change, origin)
      yield* keySync.syncKey(keyId, origin, userId).pipe(Effect.catchTag("KeyInactive", () => Effect.void))
      return yield* owned(userId, keyId)
    })

    return { list, add, update, remove, sync, setLimit } as const
  })
}) {}
