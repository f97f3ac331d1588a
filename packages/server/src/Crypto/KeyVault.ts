import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Option, Redacted, Ref, Schema } from "effect"
import { AppConfig, MIN_SECRET_LENGTH } from "../Config.js"
import type { StoredEvent } from "../EventStore.js"

/*
 * Envelope encryption of stored OpenRouter keys. Each key has its own random 256-bit data key;
 * the key is sealed with it (AES-256-GCM, AAD `${keyId}:${userId}`) and the ciphertext goes into
 * the KeyAdded event. The data key, wrapped by the master key (AES-256-GCM, AAD keyId), lives in
 * `key_vault`; deleting that row shreds the key for good, although the log keeps its ciphertext.
 *
 * Master-key rotation (`orw keys rotate-master-key`), without a moment where a running server
 * cannot open a key:
 *   1. restart the server with ENCRYPTION_KEY=<new> and ENCRYPTION_KEY_PREVIOUS=<old>: it seals with
 *      the new key and opens rows of either (each row names its master by `master_key_id`);
 *   2. run the command with the same environment: `rotateMasterKey(ENCRYPTION_KEY)` re-wraps every row
 *      still under the old key, in one transaction (the server reads the old rows until it commits);
 *   3. drop ENCRYPTION_KEY_PREVIOUS once a second run reports 0 re-wrapped rows.
 * Offline variant: stop the server, run the command with ENCRYPTION_KEY=<old> and the new key from
 * NEW_ENCRYPTION_KEY or stdin, then start with ENCRYPTION_KEY=<new>.
 */

/** The key was deleted: its data key is gone, so its ciphertext can never be opened again. */
export class KeyShredded extends Schema.TaggedError<KeyShredded>()("KeyShredded", { keyId: Schema.String }) {
  override get message() {
    return `API key ${this.keyId} was deleted: its data key is destroyed`
  }
}

/** A stored key cannot be opened: unknown master key, or a wrapped key / ciphertext that fails authentication. */
export class DecryptionFailed extends Schema.TaggedError<DecryptionFailed>()("DecryptionFailed", {
  keyId: Schema.String,
  reason: Schema.Literal("UnknownMasterKey", "WrappedKeyInvalid", "CiphertextInvalid"),
  masterKeyId: Schema.optional(Schema.String)
}) {
  override get message() {
    return this.reason === "UnknownMasterKey"
      ? `API key ${this.keyId} is wrapped by master key ${this.masterKeyId}, not ENCRYPTION_KEY(_PREVIOUS)`
      : `API key ${this.keyId} cannot be decrypted (${this.reason})`
  }
}

/** A master key that is too short to use. */
export class InvalidMasterKey extends Schema.TaggedError<InvalidMasterKey>()("InvalidMasterKey", {}) {
  override get message() {
    return `The master key must be 64 hex characters, base64 of 32 bytes, or at least ${MIN_SECRET_LENGTH} characters`
  }
}

/** A master key: 32 bytes, and its fingerprint (safe to store and print). */
export interface MasterKey {
  readonly id: string
  readonly key: Redacted.Redacted<Buffer>
}

/** The `key_vault` row that must be written with the KeyAdded event. */
export interface VaultRow {
  readonly keyId: string
  readonly userId: string
  readonly wrappedKey: string
  readonly masterKeyId: string
  readonly createdAt: string
}

const NONCE_BYTES = 12
const TAG_BYTES = 16

/** AES-256-GCM with a fresh 96-bit nonce: `v1.<base64url nonce>.<base64url ciphertext+tag>`. */
const sealBytes = (key: Buffer, plaintext: Buffer, aad: string): string => {
  const nonce = NodeCrypto.randomBytes(NONCE_BYTES)
  const cipher = NodeCrypto.createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  return `v1.${nonce.toString("base64url")}.${body.toString("base64url")}`
}

const openBytes = (key: Buffer, sealed: string, aad: string): Option.Option<Buffer> => {
  const [version, nonceText, bodyText, ...rest] = sealed.split(".")
  if (version !== "v1" || nonceText === undefined || bodyText === undefined || rest.length > 0) return Option.none()
  const nonce = Buffer.from(nonceText, "base64url")
  const body = Buffer.from(bodyText, "base64url")
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) return Option.none()
  try {
    const decipher = NodeCrypto.createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.from(aad, "utf8"))
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES))
    return Option.some(Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]))
  } catch {
    return Option.none()
  }
}

const scrypt = (passphrase: string) =>
  Effect.async<Buffer>((resume) =>
    NodeCrypto.scrypt(
      passphrase,
      "orw/ENCRYPTION_KEY/v1",
      32,
      { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 },
      (error, key) => resume(error === null ? Effect.succeed(key) : Effect.die(error))
    )
  )

/**
 * ENCRYPTION_KEY as 32 bytes: 64 hex characters, or base64/base64url of exactly 32 bytes, are the key
 * itself; any other value of at least 32 characters is a passphrase, stretched with scrypt (a fixed
 * salt, so the same passphrase always gives the same key; scrypt rather than one SHA-256 because a
 * passphrase may be guessable, and a leaked backup lets an attacker test guesses offline).
 */
export const masterKeyFrom = Effect.fn("KeyVault.masterKeyFrom")(function* (secret: Redacted.Redacted<string>) {
  const text = Redacted.value(secret).trim()
  if (text.length < MIN_SECRET_LENGTH) return yield* new InvalidMasterKey()
  const base64 = /^[A-Za-z0-9+/_-]{43}=?$/.test(text) ? Buffer.from(text, "base64") : undefined
  const key = /^[0-9a-f]{64}$/i.test(text)
    ? Buffer.from(text, "hex")
    : base64?.length === 32
      ? base64
      : yield* scrypt(text)
  const hmac = NodeCrypto.createHmac("sha256", key).update("orw-master-id").digest()
  const id = NodeCrypto.createHash("sha256").update(hmac).digest("hex").slice(0, 16)
  return { id, key: Redacted.make(key) } satisfies MasterKey
})

/** SHA-256 (hex) of a plaintext key, to recognise the same key without storing it. */
export const keyHash = (plaintext: Redacted.Redacted<string>): string =>
  NodeCrypto.createHash("sha256").update(Redacted.value(plaintext), "utf8").digest("hex")

interface Keyring {
  readonly current: MasterKey
  readonly byId: ReadonlyMap<string, MasterKey>
}

/** A vault over explicit master keys: `current` seals, all of them open. */
export const makeKeyVault = Effect.fn("KeyVault.make")(function* (
  current: Redacted.Redacted<string>,
  previous: ReadonlyArray<Redacted.Redacted<string>> = []
) {
  const sql = yield* SqlClient.SqlClient
  const first = yield* masterKeyFrom(current)
  const others = yield* Effect.forEach(previous, masterKeyFrom)
  const ring = yield* Ref.make<Keyring>({ current: first, byId: new Map([first, ...others].map((k) => [k.id, k])) })

  const seal = Effect.fn("KeyVault.seal")(function* (
    keyId: string,
    userId: string,
    plaintext: Redacted.Redacted<string>
  ) {
    const { current } = yield* Ref.get(ring)
    const dataKey = NodeCrypto.randomBytes(32)
    const ciphertext = sealBytes(dataKey, Buffer.from(Redacted.value(plaintext), "utf8"), `${keyId}:${userId}`)
    const wrappedKey = sealBytes(Redacted.value(current.key), dataKey, keyId)
    dataKey.fill(0)
    const createdAt = DateTime.formatIso(yield* DateTime.now)
    const vaultRow: VaultRow = { keyId, userId, wrappedKey, masterKeyId: current.id, createdAt }
    return { ciphertext, vaultRow }
  })

  /** For Dispatcher's `inTransaction`: stores the row only if this append added that key. */
  const storeInTransaction = (row: VaultRow) => (appended: ReadonlyArray<StoredEvent>) =>
    Effect.gen(function* () {
      const adds = ({ event }: StoredEvent) =>
        (event._tag === "KeyAdded" && event.keyId === row.keyId) ||
        (event._tag === "WebhookAdded" && event.webhookId === row.keyId)
      if (!appended.some(adds)) return
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO key_vault ${sql.insert({
        key_id: row.keyId,
        user_id: row.userId,
        wrapped_key: row.wrappedKey,
        master_key_id: row.masterKeyId,
        created_at: row.createdAt
      })}`
    }).pipe(Effect.orDie, Effect.withSpan("KeyVault.storeInTransaction"))

  const unwrap = (keyring: Keyring, keyId: string, row: { wrapped_key: string; master_key_id: string }) => {
    const master = keyring.byId.get(row.master_key_id)
    if (master === undefined) {
      return Effect.fail(new DecryptionFailed({ keyId, reason: "UnknownMasterKey", masterKeyId: row.master_key_id }))
    }
    return Option.match(openBytes(Redacted.value(master.key), row.wrapped_key, keyId), {
      onNone: () => Effect.fail(new DecryptionFailed({ keyId, reason: "WrappedKeyInvalid" })),
      onSome: Effect.succeed
    })
  }

  const open = Effect.fn("KeyVault.open")(function* (keyId: string, userId: string, ciphertext: string) {
    const rows = yield* Effect.orDie(
      sql<{ wrapped_key: string; master_key_id: string }>`SELECT wrapped_key, master_key_id FROM key_vault
        WHERE key_id = ${keyId}`
    )
    if (rows[0] === undefined) return yield* new KeyShredded({ keyId })
    const dataKey = yield* unwrap(yield* Ref.get(ring), keyId, rows[0])
    const plaintext = openBytes(dataKey, ciphertext, `${keyId}:${userId}`)
    dataKey.fill(0)
    if (Option.isNone(plaintext)) return yield* new DecryptionFailed({ keyId, reason: "CiphertextInvalid" })
    return Redacted.make(plaintext.value.toString("utf8"))
  })

  /**
   * Re-wraps every data key not yet under `newMasterKey`, in one transaction (all or nothing), with
   * whichever configured master wrapped it; afterwards this vault seals with the new key too.
   */
  const rotateMasterKey = Effect.fn("KeyVault.rotateMasterKey")(
    function* (newMasterKey: Redacted.Redacted<string>) {
      const next = yield* masterKeyFrom(newMasterKey)
      const before = yield* Ref.get(ring)
      const keyring: Keyring = { current: next, byId: new Map([...before.byId, [next.id, next]]) }
      const rewrapped = yield* sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql<{ key_id: string; wrapped_key: string; master_key_id: string }>`
          SELECT key_id, wrapped_key, master_key_id FROM key_vault WHERE master_key_id <> ${next.id} ORDER BY key_id`
          for (const row of rows) {
            const dataKey = yield* unwrap(keyring, row.key_id, row)
            const wrapped = sealBytes(Redacted.value(next.key), dataKey, row.key_id)
            dataKey.fill(0)
            yield* sql`UPDATE key_vault SET wrapped_key = ${wrapped}, master_key_id = ${next.id}
            WHERE key_id = ${row.key_id} AND master_key_id = ${row.master_key_id}`
          }
          return rows.length
        })
      )
      yield* Ref.set(ring, keyring)
      return { rewrapped, masterKeyId: next.id }
    },
    Effect.catchTag("SqlError", Effect.die)
  )

  /** The fingerprint of the master key that seals new keys. */
  const masterKeyId = Effect.map(Ref.get(ring), (keyring) => keyring.current.id)

  return { masterKeyId, seal, storeInTransaction, open, rotateMasterKey } as const
})

/**
 * Deleting a key, or its owner, destroys the key's data key in the same transaction as the event: the
 * ciphertext the log keeps can no longer be opened (crypto-shredding). For Dispatcher's `inTransaction`.
 */
export const shredDataKeys = (appended: ReadonlyArray<StoredEvent>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(
      appended,
      ({ event }) =>
        event._tag === "KeyDeleted"
          ? Effect.asVoid(sql`DELETE FROM key_vault WHERE key_id = ${event.keyId}`)
          : event._tag === "WebhookDeleted"
            ? Effect.asVoid(sql`DELETE FROM key_vault WHERE key_id = ${event.webhookId}`)
            : event._tag === "UserDeleted"
              ? Effect.asVoid(sql`DELETE FROM key_vault WHERE user_id = ${event.userId}`)
              : Effect.void,
      { discard: true }
    )
  )

/**
 * Envelope encryption of stored OpenRouter keys, with ENCRYPTION_KEY (and ENCRYPTION_KEY_PREVIOUS) from
 * AppConfig. AppConfig is not a declared dependency: the composition root provides it once (tests their own).
 */
export class KeyVault extends Effect.Service<KeyVault>()("orw/KeyVault", {
  effect: Effect.flatMap(AppConfig, (config) =>
    makeKeyVault(config.encryptionKey, Option.toArray(config.encryptionKeyPrevious)).pipe(
      Effect.catchTag("InvalidMasterKey", Effect.die)
    )
  )
}) {}
