import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeyCommands, ApiKeyId, maskKey, UserCommands, UserId } from "@orw/domain"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { AppConfig, layerDotEnv } from "../src/Config.js"
import * as Core from "../src/Core.js"
import { KeyVault, keyHash, makeKeyVault, masterKeyFrom } from "../src/Crypto/KeyVault.js"
import { Dispatcher } from "../src/Dispatcher.js"
import * as Sql from "../src/Sql.js"

const oldMaster = Redacted.make("11".repeat(32))
const newMaster = Redacted.make("22".repeat(32))
const meta = { actor: null, source: "cli" as const, correlationId: "c", causationId: null, requestId: null }
const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")

const vaultLayer = Layer.effect(KeyVault, Effect.map(makeKeyVault(oldMaster), KeyVault.make))
const TestLayer = () => vaultLayer.pipe(Layer.provideMerge(Core.layerFile(":memory:")))

const plaintextOf = (n: number) => `sk-or-v1-${n.toString(16).padStart(2, "0").repeat(32)}`

const register = (userId: string) =>
  Effect.flatMap(Dispatcher, (d) =>
    d.dispatch(
      new UserCommands.RegisterUser({ userId: UserId.make(userId), email: `${userId}@x.io`, passwordHash: "h", at }),
      { metadata: meta }
    )
  )

/** Seals a key and adds it the way the HTTP layer will: the vault row commits with KeyAdded. */
const addKey = (keyId: string, userId: string, plaintext: string) =>
  Effect.gen(function* () {
    const vault = yield* KeyVault
    const d = yield* Dispatcher
    const key = Redacted.make(plaintext)
    const { ciphertext, vaultRow } = yield* vault.seal(keyId, userId, key)
    const command = new ApiKeyCommands.AddKey({
      ...{ keyId: ApiKeyId.make(keyId), userId: UserId.make(userId), name: keyId, key, label: maskKey(plaintext) },
      ...{ keyHash: keyHash(key), ciphertext, maxKeysPerUser: 10, at }
    })
    yield* d.dispatch(command, { metadata: meta, inTransaction: vault.storeInTransaction(vaultRow) })
    return ciphertext
  })

const dump = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const events = yield* sql`SELECT * FROM events`
  const vault = yield* sql`SELECT * FROM key_vault`
  return JSON.stringify({ events, vault })
})

const tamper = (text: string, at: number) => text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1)

describe("KeyVault", () => {
  it.effect("seals and opens a key; the vault row commits with KeyAdded", () =>
    Effect.gen(function* () {
      yield* register("u1")
      const plaintext = plaintextOf(1)
      const ciphertext = yield* addKey("k1", "u1", plaintext)
      const vault = yield* KeyVault
      expect(ciphertext).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
      expect(Redacted.value(yield* vault.open("k1", "u1", ciphertext))).toBe(plaintext)
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ user_id: string; master_key_id: string }>`SELECT * FROM key_vault`
      expect(rows).toMatchObject([{ key_id: "k1", user_id: "u1", master_key_id: yield* vault.masterKeyId }])
      expect(rows[0]?.master_key_id).toMatch(/^[0-9a-f]{16}$/)
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("no vault row when the append added no key (rejected command, foreign append)", () =>
    Effect.gen(function* () {
      yield* register("u1")
      const vault = yield* KeyVault
      const { vaultRow } = yield* vault.seal("k1", "u1", Redacted.make(plaintextOf(1)))
      yield* vault.storeInTransaction(vaultRow)([])
      yield* Effect.flip(addKey("k2", "u1", "not-a-key"))
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`SELECT key_id FROM key_vault`).toEqual([])
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("uses a fresh nonce and data key for every seal", () =>
    Effect.gen(function* () {
      const vault = yield* KeyVault
      const key = Redacted.make(plaintextOf(7))
      const a = yield* vault.seal("k1", "u1", key)
      const b = yield* vault.seal("k1", "u1", key)
      expect(a.ciphertext.split(".")[1]).not.toBe(b.ciphertext.split(".")[1])
      expect(a.ciphertext).not.toBe(b.ciphertext)
      expect(a.vaultRow.wrappedKey).not.toBe(b.vaultRow.wrappedKey)
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("binds key id and user id: another owner, another key's row, or tampering fail", () =>
    Effect.gen(function* () {
      yield* register("u1")
      yield* register("u2")
      const plaintext = plaintextOf(2)
      const ciphertext = yield* addKey("k1", "u1", plaintext)
      yield* addKey("k2", "u2", plaintextOf(3))
      const vault = yield* KeyVault
      const sql = yield* SqlClient.SqlClient
      const failures = [
        yield* Effect.flip(vault.open("k1", "u2", ciphertext)),
        yield* Effect.flip(vault.open("k2", "u2", ciphertext)),
        yield* Effect.flip(vault.open("k1", "u1", tamper(ciphertext, ciphertext.length - 5))),
        yield* Effect.flip(vault.open("k1", "u1", "v1.garbage.garbage"))
      ]
      expect(failures.map((e) => e._tag === "DecryptionFailed" && e.reason)).toEqual(Array(4).fill("CiphertextInvalid"))
      // k1's wrapped data key copied under another key id does not unwrap: the wrap is bound to k1.
      yield* sql`INSERT INTO key_vault SELECT 'k3', user_id, wrapped_key, master_key_id, created_at
        FROM key_vault WHERE key_id = 'k1'`
      const moved = yield* Effect.flip(vault.open("k3", "u1", ciphertext))
      expect(moved).toMatchObject({ _tag: "DecryptionFailed", reason: "WrappedKeyInvalid" })
      const [row] = yield* sql<{ wrapped_key: string }>`SELECT wrapped_key FROM key_vault WHERE key_id = 'k1'`
      yield* sql`UPDATE key_vault SET wrapped_key = ${tamper(row!.wrapped_key, 20)} WHERE key_id = 'k1'`
      const tampered = yield* Effect.flip(vault.open("k1", "u1", ciphertext))
      expect(tampered).toMatchObject({ _tag: "DecryptionFailed", reason: "WrappedKeyInvalid" })
      for (const error of [...failures, moved, tampered]) {
        expect(`${String(error)} ${error.message} ${JSON.stringify(error)}`).not.toContain(plaintext.slice(9))
      }
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("a deleted key (or user) is shredded: its ciphertext can no longer be opened", () =>
    Effect.gen(function* () {
      yield* register("u1")
      const ciphertext = yield* addKey("k1", "u1", plaintextOf(4))
      const d = yield* Dispatcher
      const vault = yield* KeyVault
      yield* d.dispatch(new ApiKeyCommands.DeleteKey({ keyId: ApiKeyId.make("k1"), userId: UserId.make("u1"), at }), {
        metadata: meta
      })
      const error = yield* Effect.flip(vault.open("k1", "u1", ciphertext))
      expect(error).toMatchObject({ _tag: "KeyShredded", keyId: "k1" })
      expect(error.message).not.toContain(plaintextOf(4).slice(9))

      yield* register("u2")
      const other = yield* addKey("k2", "u2", plaintextOf(5))
      expect(Redacted.value(yield* vault.open("k2", "u2", other))).toBe(plaintextOf(5))
      yield* d.dispatch(new UserCommands.DeleteUser({ userId: UserId.make("u2"), at }), { metadata: meta })
      expect(yield* Effect.flip(vault.open("k2", "u2", other))).toMatchObject({ _tag: "KeyShredded", keyId: "k2" })
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("neither the ciphertext nor the log nor the vault holds the plaintext", () =>
    Effect.gen(function* () {
      yield* register("u1")
      const plaintext = plaintextOf(5)
      const ciphertext = yield* addKey("k1", "u1", plaintext)
      const secretPart = plaintext.slice(9)
      const all = `${ciphertext} ${yield* dump}`
      for (const form of [
        secretPart,
        Buffer.from(plaintext).toString("base64"),
        Buffer.from(plaintext).toString("base64url")
      ]) {
        expect(all).not.toContain(form)
      }
      expect(all).toContain(maskKey(plaintext))
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("rotation re-wraps every data key in one go; then the new master alone opens them", () =>
    Effect.gen(function* () {
      yield* register("u1")
      const keys = [1, 2, 3].map((n) => ({ id: `k${n}`, plaintext: plaintextOf(10 + n) }))
      const sealed = yield* Effect.forEach(keys, (k) => addKey(k.id, "u1", k.plaintext))
      const vault = yield* KeyVault
      const oldId = yield* vault.masterKeyId
      expect(oldId).toBe((yield* masterKeyFrom(oldMaster)).id)
      // A server already switched to the new key, with the old one as previous, opens the old rows.
      const switched = yield* makeKeyVault(newMaster, [oldMaster])
      expect(Redacted.value(yield* switched.open("k1", "u1", sealed[0]!))).toBe(keys[0]!.plaintext)

      const result = yield* vault.rotateMasterKey(newMaster)
      const newId = (yield* masterKeyFrom(newMaster)).id
      expect(result).toEqual({ rewrapped: 3, masterKeyId: newId })
      expect(yield* vault.masterKeyId).toBe(newId)
      const sql = yield* SqlClient.SqlClient
      expect(yield* sql`SELECT DISTINCT master_key_id FROM key_vault`).toEqual([{ master_key_id: newId }])

      const newOnly = yield* makeKeyVault(newMaster)
      const oldOnly = yield* makeKeyVault(oldMaster)
      for (const [i, k] of keys.entries()) {
        expect(Redacted.value(yield* newOnly.open(k.id, "u1", sealed[i]!))).toBe(k.plaintext)
        const error = yield* Effect.flip(oldOnly.open(k.id, "u1", sealed[i]!))
        expect(error).toMatchObject({ _tag: "DecryptionFailed", reason: "UnknownMasterKey", masterKeyId: newId })
        expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(k.plaintext.slice(9))
      }
      expect((yield* vault.rotateMasterKey(newMaster)).rewrapped).toBe(0)
    }).pipe(Effect.provide(TestLayer()))
  )

  it.effect("rotation is all or nothing: one unreadable row leaves every row as it was", () =>
    Effect.gen(function* () {
      yield* register("u1")
      yield* addKey("k1", "u1", plaintextOf(21))
      yield* addKey("k2", "u1", plaintextOf(22))
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE key_vault SET wrapped_key = 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA' WHERE key_id = 'k2'`
      const before = yield* sql`SELECT * FROM key_vault ORDER BY key_id`
      const vault = yield* KeyVault
      const error = yield* Effect.flip(vault.rotateMasterKey(newMaster))
      expect(error).toMatchObject({ _tag: "DecryptionFailed", keyId: "k2" })
      expect(yield* sql`SELECT * FROM key_vault ORDER BY key_id`).toEqual(before)
      expect(yield* vault.masterKeyId).toBe((yield* masterKeyFrom(oldMaster)).id)
    }).pipe(Effect.provide(TestLayer()))
  )
})

describe("KeyVault.Default", () => {
  it.effect("seals with ENCRYPTION_KEY and still opens rows of ENCRYPTION_KEY_PREVIOUS", () =>
    Effect.gen(function* () {
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-vault-"))
      const env = {
        NODE_ENV: "production",
        SECRET_KEY: "s".repeat(32),
        ENCRYPTION_KEY: Redacted.value(newMaster),
        ENCRYPTION_KEY_PREVIOUS: Redacted.value(oldMaster)
      }
      const layer = KeyVault.Default.pipe(
        Layer.provideMerge(Sql.layerFile(":memory:")),
        Layer.provide(AppConfig.Default),
        Layer.provide(layerDotEnv({ env, cwd: dir }))
      )
      yield* Effect.gen(function* () {
        const vault = yield* KeyVault
        expect(yield* vault.masterKeyId).toBe((yield* masterKeyFrom(newMaster)).id)
        const oldVault = yield* makeKeyVault(oldMaster)
        const plaintext = plaintextOf(30)
        const { ciphertext, vaultRow } = yield* oldVault.seal("k1", "u1", Redacted.make(plaintext))
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO key_vault ${sql.insert({
          key_id: vaultRow.keyId,
          user_id: vaultRow.userId,
          wrapped_key: vaultRow.wrappedKey,
          master_key_id: vaultRow.masterKeyId,
          created_at: vaultRow.createdAt
        })}`
        expect(Redacted.value(yield* vault.open("k1", "u1", ciphertext))).toBe(plaintext)
      }).pipe(Effect.provide(layer))
      NodeFs.rmSync(dir, { recursive: true, force: true })
    })
  )
})

describe("masterKeyFrom / keyHash", () => {
  it.effect("hex and base64 of the same 32 bytes are the same key; passphrases are stretched", () =>
    Effect.gen(function* () {
      const bytes = NodeCrypto.randomBytes(32)
      const hex = yield* masterKeyFrom(Redacted.make(bytes.toString("hex")))
      const b64 = yield* masterKeyFrom(Redacted.make(bytes.toString("base64")))
      const b64url = yield* masterKeyFrom(Redacted.make(bytes.toString("base64url")))
      expect(Redacted.value(hex.key).equals(bytes)).toBe(true)
      expect([b64.id, b64url.id]).toEqual([hex.id, hex.id])
      expect(hex.id).not.toContain(bytes.toString("hex").slice(0, 16))
      const phrase = "your-32-byte-encryption-key-here"
      const a = yield* masterKeyFrom(Redacted.make(phrase))
      const b = yield* masterKeyFrom(Redacted.make(phrase))
      expect(Redacted.value(a.key)).toHaveLength(32)
      expect(a.id).toBe(b.id)
      expect(Redacted.value(a.key).equals(Buffer.from(phrase))).toBe(false)
      const short = yield* Effect.flip(masterKeyFrom(Redacted.make("too-short")))
      expect(short._tag).toBe("InvalidMasterKey")
    })
  )

  it("keyHash is the SHA-256 hex of the key", () => {
    expect(keyHash(Redacted.make("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  })
})
