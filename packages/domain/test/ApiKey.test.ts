import { describe, expect, it } from "@effect/vitest"
import { DateTime, Redacted, Schema } from "effect"
import type { ApiKeyCommand } from "../src/ApiKey/Commands.js"
import { AddKey, DeleteKey, EditKey, MarkKeyInvalid, RecordSyncFailure } from "../src/ApiKey/Commands.js"
import { decideApiKey, evolveApiKey, initialApiKeyState, maskKey } from "../src/ApiKey/Decider.js"
import type { KeyStatus } from "../src/ApiKey/Events.js"
import {
  KeyActiveSet,
  KeyAdded,
  KeyDeleted,
  KeyMarkedInvalid,
  KeyRenamed,
  KeyStatusRecorded,
  KeySyncFailed
} from "../src/ApiKey/Events.js"
import {
  AlreadyExists,
  DuplicateKey,
  InvalidKeyFormat,
  InvalidName,
  KeyForbidden,
  KeyLimitReached,
  KeyNotFound,
  UserNotFound
} from "../src/Errors.js"
import { DomainEvent, Streams, streamOf } from "../src/Events.js"
import { ApiKeyId, UserId } from "../src/Ids.js"
import { evolveUser, initialUserState } from "../src/User/Decider.js"
import { KeyAttached, KeyDetached, UserDeleted, UserRegistered } from "../src/User/Events.js"
import { spec, stream } from "./support/DeciderSpec.js"
import { keyStatus } from "./support/KeyStatus.js"

const keys = spec(
  { user: stream(initialUserState, evolveUser), key: stream(initialApiKeyState, evolveApiKey) },
  decideApiKey
)

const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
const later = DateTime.unsafeMake("2026-11-29T11:00:00Z")
const alice = UserId.make("u-alice")
const bob = UserId.make("u-bob")
const k1 = ApiKeyId.make("k1")
const k2 = ApiKeyId.make("k2")
const k3 = ApiKeyId.make("k3")

const plaintext = `sk-or-v1-${"0123456789abcdef".repeat(4)}`
const MAX = 2

const registered = new UserRegistered({ userId: alice, email: "alice@example.com", passwordHash: "h", at })
const attached = (keyId: ApiKeyId) => new KeyAttached({ userId: alice, keyId, at })
/** What AddKey attaches: the key with its SHA-256, so the keyring refuses the same key twice. */
const attachedWithHash = (keyId: ApiKeyId, keyHash = "hash-of-key") =>
  new KeyAttached({ userId: alice, keyId, keyHash, at })
const detached = (keyId: ApiKeyId) => new KeyDetached({ userId: alice, keyId, at })

const added = new KeyAdded({
  keyId: k1,
  userId: alice,
  name: "Main",
  label: maskKey(plaintext),
  keyHash: "hash-of-key",
  ciphertext: "sealed-bytes",
  at
})
const deleted = new KeyDeleted({ keyId: k1, userId: alice, at })
const markedInvalid = new KeyMarkedInvalid({ keyId: k1, userId: alice, at })
const syncFailed = new KeySyncFailed({ keyId: k1, userId: alice, error: "HTTP 503", at })
const deactivated = new KeyActiveSet({ keyId: k1, userId: alice, isActive: false, at })
const reactivated = new KeyActiveSet({ keyId: k1, userId: alice, isActive: true, at })
const renamed = (name: string) => new KeyRenamed({ keyId: k1, userId: alice, name, at })

/** Alice owns k1: her stream lists it, its stream says who owns it. */
const aliceWithKey = { user: [registered, attached(k1)], key: [added] }

const addKey = (fields: Partial<ConstructorParameters<typeof AddKey>[0]> = {}) =>
  new AddKey({
    keyId: k1,
    userId: alice,
    name: "Main",
    key: Redacted.make(plaintext),
    label: maskKey(plaintext),
    keyHash: "hash-of-key",
    ciphertext: "sealed-bytes",
    maxKeysPerUser: MAX,
    at,
    ...fields
  })

const status = keyStatus
const statusRecorded = (s: KeyStatus) => new KeyStatusRecorded({ keyId: k1, userId: alice, status: s, at })

describe("ApiKey decider", () => {
  describe("AddKey", () => {
    describe("given a registered user with room on their keyring", () => {
      it("adds the key and attaches it to the user", () =>
        keys
          .given({ user: [registered] })
          .when(addKey())
          .then([added, new KeyAttached({ userId: alice, keyId: k1, keyHash: "hash-of-key", at })]))

      it("puts the events on the key stream and the user stream", () => {
        const events = keys
          .given({ user: [registered] })
          .when(addKey())
          .then([added, attachedWithHash(k1)])
        expect(events.map((e) => streamOf(e))).toEqual([Streams.key(k1), Streams.user(alice)])
      })

      it("never writes the plaintext key into an event", () => {
        const events = keys
          .given({ user: [registered] })
          .when(addKey())
          .then([added, attachedWithHash(k1)])
        const json = JSON.stringify(Schema.encodeSync(Schema.Array(DomainEvent))(events))
        expect(json).toContain("sealed-bytes")
        expect(json).not.toContain(plaintext)
        expect(json).not.toContain(plaintext.slice("sk-or-v1-".length))
      })

      it.each([
        ["uppercase hex", `sk-or-v1-${"0123456789ABCDEF".repeat(4)}`],
        ["63 hex characters", `sk-or-v1-${"a".repeat(63)}`],
        ["65 hex characters", `sk-or-v1-${"a".repeat(65)}`],
        ["a non-hex character", `sk-or-v1-${"g".repeat(64)}`],
        ["the wrong prefix", `sk-or-v2-${"a".repeat(64)}`],
        ["no prefix", "a".repeat(64)],
        ["surrounding space", ` ${plaintext} `],
        ["empty", ""]
      ])("rejects a key with %s as InvalidKeyFormat", (_, key) => {
        const error = keys
          .given({ user: [registered] })
          .when(addKey({ key: Redacted.make(key) }))
          .thenFails(InvalidKeyFormat)
        expect(error.message).toBe("Invalid API key format")
      })

      it.each([
        ["empty", ""],
        ["blank", "   "],
        ["over 100 characters", "n".repeat(101)],
        ["with a NUL", "a\u0000b"],
        ["with a bidi override (U+202E)", "evil\u202Etxt"],
        ["with a zero-width space", "zero\u200Bwidth"],
        ["with a newline", "two\nlines"]
      ])("rejects a name that is %s as InvalidName", (_, name) => {
        keys
          .given({ user: [registered] })
          .when(addKey({ name }))
          .thenFails(InvalidName)
      })

      it("accepts a name of exactly 100 characters", () =>
        keys
          .given({ user: [registered] })
          .when(addKey({ name: "n".repeat(100) }))
          .then([new KeyAdded({ ...added, name: "n".repeat(100) }), attachedWithHash(k1)]))

      it("accepts the last free slot", () =>
        keys
          .given({ user: [registered, attached(k2)] })
          .when(addKey())
          .then([added, attachedWithHash(k1)]))
    })

    describe("given the user's keyring is full", () => {
      const full = [registered, attached(k2), attached(k3)]

      it("rejects with KeyLimitReached carrying the limit", () => {
        const error = keys.given({ user: full }).when(addKey()).thenFails(KeyLimitReached)
        expect(error.max).toBe(MAX)
        expect(error.message).toBe(`Maximum number of API keys reached (${MAX})`)
      })

      it("frees a slot when a key is detached (deleted)", () =>
        keys
          .given({ user: [...full, detached(k2)] })
          .when(addKey())
          .then([added, attachedWithHash(k1)]))

      it("still counts inactive and invalid keys: deactivating or invalidating detaches nothing", () => {
        const other = { user: [registered, attached(k2)], key: [new KeyAdded({ ...added, keyId: k2 })] }
        const deactivation = keys
          .given(other)
          .when(new EditKey({ keyId: k2, userId: alice, isActive: false, at }))
          .then([new KeyActiveSet({ keyId: k2, userId: alice, isActive: false, at })])
        const invalidation = keys
          .given(other)
          .when(new MarkKeyInvalid({ keyId: k2, at }))
          .then([new KeyMarkedInvalid({ keyId: k2, userId: alice, at })])
        expect([...deactivation, ...invalidation].map((e) => streamOf(e))).toEqual([Streams.key(k2), Streams.key(k2)])
        keys.given({ user: full }).when(addKey()).thenFails(KeyLimitReached)
      })
    })

    describe("given the user is unknown, deleted or someone else", () => {
      it("rejects an unregistered user with UserNotFound", () => keys.given().when(addKey()).thenFails(UserNotFound))

      it("rejects a deleted user with UserNotFound", () =>
        keys
          .given({ user: [registered, new UserDeleted({ userId: alice, email: "alice@example.com", at })] })
          .when(addKey())
          .thenFails(UserNotFound))

      it("rejects a command whose user is not the one loaded with UserNotFound", () =>
        keys
          .given({ user: [registered] })
          .when(addKey({ userId: bob }))
          .thenFails(UserNotFound))
    })

    describe("given the key id already has a history", () => {
      it("rejects a present key id with AlreadyExists", () =>
        keys.given(aliceWithKey).when(addKey()).thenFails(AlreadyExists))

      it("rejects a deleted key id with AlreadyExists", () =>
        keys
          .given({ user: [registered, attached(k1), detached(k1)], key: [added, deleted] })
          .when(addKey())
          .thenFails(AlreadyExists))
    })
  })

  describe("EditKey, the name only", () => {
    describe("given the user's key", () => {
      it("renames it", () =>
        keys
          .given(aliceWithKey)
          .when(new EditKey({ keyId: k1, userId: alice, name: "Backup", at: later }))
          .then([new KeyRenamed({ keyId: k1, userId: alice, name: "Backup", at: later })]))

      it("decides nothing for the same name", () =>
        keys
          .given(aliceWithKey)
          .when(new EditKey({ keyId: k1, userId: alice, name: "Main", at: later }))
          .thenNothing())

      it.each([
        ["empty", ""],
        ["blank", "  "],
        ["over 100 characters", "x".repeat(101)]
      ])("rejects a name that is %s as InvalidName", (_, name) => {
        keys
          .given(aliceWithKey)
          .when(new EditKey({ keyId: k1, userId: alice, name, at }))
          .thenFails(InvalidName)
      })
    })

    describe("given the user's key was marked invalid", () => {
      const invalidKey = { ...aliceWithKey, key: [added, markedInvalid] }

      // Issue 13: a rename used to clear invalid, so the key showed active until the next sync said 401 again.
      it("records nothing for the same name: a rename does not re-arm an invalid key", () =>
        keys
          .given(invalidKey)
          .when(new EditKey({ keyId: k1, userId: alice, name: "Main", at: later }))
          .then([]))

      it("is still invalid after a rename", () => {
        const { key } = keys.given({ ...aliceWithKey, key: [added, markedInvalid, renamed("Fixed")] }).state()
        expect(key).toMatchObject({ _tag: "Present", name: "Fixed", invalid: true })
      })

      it("is valid again once a status was recorded (a key renamed under the old rule and synced since)", () => {
        const { key } = keys.given({ ...aliceWithKey, key: [added, markedInvalid, statusRecorded(status())] }).state()
        expect(key).toMatchObject({ _tag: "Present", invalid: false })
      })
    })

    describe("given another user's key", () => {
      it("rejects with KeyForbidden", () =>
        keys
          .given(aliceWithKey)
          .when(new EditKey({ keyId: k1, userId: bob, name: "Mine", at }))
          .thenFails(KeyForbidden))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () =>
        keys
          .given({ user: [registered] })
          .when(new EditKey({ keyId: k1, userId: alice, name: "Backup", at }))
          .thenFails(KeyNotFound))

      it("rejects a deleted key with KeyNotFound", () =>
        keys
          .given({ user: [registered], key: [added, deleted] })
          .when(new EditKey({ keyId: k1, userId: alice, name: "Backup", at }))
          .thenFails(KeyNotFound))
    })
  })

  describe("EditKey, active only", () => {
    const setActive = (isActive: boolean, userId: UserId = alice) =>
      new EditKey({ keyId: k1, userId, isActive, at: later })
    const activeSet = (isActive: boolean) => new KeyActiveSet({ keyId: k1, userId: alice, isActive, at: later })

    describe("given an active key", () => {
      it("deactivates it", () =>
        keys
          .given(aliceWithKey)
          .when(setActive(false))
          .then([activeSet(false)]))

      it("decides nothing when activated again", () => keys.given(aliceWithKey).when(setActive(true)).thenNothing())
    })

    describe("given an inactive key", () => {
      const inactive = { ...aliceWithKey, key: [added, deactivated] }

      it("reactivates it", () =>
        keys
          .given(inactive)
          .when(setActive(true))
          .then([activeSet(true)]))

      it("decides nothing when deactivated again", () => keys.given(inactive).when(setActive(false)).thenNothing())
    })

    describe("given an invalid key", () => {
      const invalidKey = { ...aliceWithKey, key: [added, markedInvalid] }

      it("records a re-activation although the key is already active", () =>
        keys
          .given(invalidKey)
          .when(setActive(true))
          .then([activeSet(true)]))

      it("clears invalid and failing once re-activated", () => {
        const { key } = keys
          .given({ ...aliceWithKey, key: [added, syncFailed, markedInvalid, activeSet(true)] })
          .state()
        expect(key).toMatchObject({ _tag: "Present", isActive: true, invalid: false, failing: false })
      })
    })

    describe("given another user's key", () => {
      it("rejects with KeyForbidden", () =>
        keys.given(aliceWithKey).when(setActive(false, bob)).thenFails(KeyForbidden))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () =>
        keys
          .given({ user: [registered] })
          .when(setActive(false))
          .thenFails(KeyNotFound))

      it("rejects a deleted key with KeyNotFound", () =>
        keys
          .given({ user: [registered], key: [added, deleted] })
          .when(setActive(true))
          .thenFails(KeyNotFound))
    })
  })

  describe("EditKey, name and active together", () => {
    const edit = (fields: { name?: string; isActive?: boolean }, userId: UserId = alice) =>
      new EditKey({ keyId: k1, userId, at: later, ...fields })
    const renamedLater = (name: string) => new KeyRenamed({ keyId: k1, userId: alice, name, at: later })
    const activeSetLater = (isActive: boolean) => new KeyActiveSet({ keyId: k1, userId: alice, isActive, at: later })

    describe("given an active key", () => {
      it("renames and deactivates it in one decision, the rename first", () =>
        keys
          .given(aliceWithKey)
          .when(edit({ name: "Backup", isActive: false }))
          .then([renamedLater("Backup"), activeSetLater(false)]))

      it("decides only the part that changes something", () => {
        keys
          .given(aliceWithKey)
          .when(edit({ name: "Main", isActive: false }))
          .then([activeSetLater(false)])
        keys
          .given(aliceWithKey)
          .when(edit({ name: "Backup", isActive: true }))
          .then([renamedLater("Backup")])
      })

      it("decides nothing when neither part changes anything, or no field is given", () => {
        keys
          .given(aliceWithKey)
          .when(edit({ name: "Main", isActive: true }))
          .thenNothing()
        keys.given(aliceWithKey).when(edit({})).thenNothing()
      })

      it("rejects the whole edit when the name is invalid: the (de)activation is not decided alone", () =>
        keys
          .given(aliceWithKey)
          .when(edit({ name: " ", isActive: false }))
          .thenFails(InvalidName))
    })

    describe("given the user's key was marked invalid", () => {
      const invalidKey = { ...aliceWithKey, key: [added, markedInvalid] }

      it("re-arms it by the re-activation, not by the rename", () =>
        keys
          .given(invalidKey)
          .when(edit({ name: "Main", isActive: true }))
          .then([activeSetLater(true)]))

      it("records a rename and a deactivation", () =>
        keys
          .given(invalidKey)
          .when(edit({ name: "Fixed", isActive: false }))
          .then([renamedLater("Fixed"), activeSetLater(false)]))
    })

    describe("given another user's key or no such key", () => {
      it("rejects another user's key with KeyForbidden", () =>
        keys
          .given(aliceWithKey)
          .when(edit({ name: "Mine", isActive: false }, bob))
          .thenFails(KeyForbidden))

      it("rejects an unknown or deleted key with KeyNotFound, even without fields", () => {
        keys
          .given({ user: [registered] })
          .when(edit({}))
          .thenFails(KeyNotFound)
        keys
          .given({ user: [registered], key: [added, deleted] })
          .when(edit({ name: "Back", isActive: true }))
          .thenFails(KeyNotFound)
      })
    })
  })

  describe("AddKey of an OpenRouter key the user already stores (same SHA-256)", () => {
    it("rejects with DuplicateKey while another of the user's keys holds that hash, whatever its name", () =>
      keys
        .given({ user: [registered, attachedWithHash(k2)] })
        .when(addKey({ name: "Another name" }))
        .thenFails(DuplicateKey))

    it("accepts it again once the other key was deleted (detached)", () =>
      keys
        .given({ user: [registered, attachedWithHash(k2), detached(k2)] })
        .when(addKey())
        .then([added, attachedWithHash(k1)]))

    it("accepts another key of the same user (another hash)", () =>
      keys
        .given({ user: [registered, attachedWithHash(k2, "another-hash")] })
        .when(addKey())
        .then([added, attachedWithHash(k1)]))
  })

  describe("DeleteKey", () => {
    describe("given the user's key", () => {
      it("deletes it and detaches it from the user's keyring", () =>
        keys
          .given(aliceWithKey)
          .when(new DeleteKey({ keyId: k1, userId: alice, at: later }))
          .then([
            new KeyDeleted({ keyId: k1, userId: alice, at: later }),
            new KeyDetached({ userId: alice, keyId: k1, at: later })
          ]))

      it("deletes an inactive, invalid, failing key as well", () =>
        keys
          .given({ ...aliceWithKey, key: [added, deactivated, markedInvalid, syncFailed] })
          .when(new DeleteKey({ keyId: k1, userId: alice, at: later }))
          .then([
            new KeyDeleted({ keyId: k1, userId: alice, at: later }),
            new KeyDetached({ userId: alice, keyId: k1, at: later })
          ]))
    })

    describe("given the owner was deleted", () => {
      it("deletes the key without detaching it from a keyring that is gone", () =>
        keys
          .given({
            user: [registered, attached(k1), new UserDeleted({ userId: alice, email: "alice@example.com", at })],
            key: [added]
          })
          .when(new DeleteKey({ keyId: k1, userId: alice, at: later }))
          .then([new KeyDeleted({ keyId: k1, userId: alice, at: later })]))
    })

    describe("given another user's key", () => {
      it("rejects with KeyForbidden", () =>
        keys
          .given(aliceWithKey)
          .when(new DeleteKey({ keyId: k1, userId: bob, at }))
          .thenFails(KeyForbidden))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () =>
        keys
          .given({ user: [registered] })
          .when(new DeleteKey({ keyId: k1, userId: alice, at }))
          .thenFails(KeyNotFound))
    })

    describe("given a deleted key", () => {
      const gone = { user: [registered, attached(k1), detached(k1)], key: [added, deleted] }

      it.each<[string, ApiKeyCommand]>([
        ["DeleteKey", new DeleteKey({ keyId: k1, userId: alice, at })],
        ["EditKey (name)", new EditKey({ keyId: k1, userId: alice, name: "Back", at })],
        ["EditKey (active)", new EditKey({ keyId: k1, userId: alice, isActive: false, at })],
        ["MarkKeyInvalid", new MarkKeyInvalid({ keyId: k1, at })],
        ["RecordSyncFailure", new RecordSyncFailure({ keyId: k1, error: "HTTP 500", at })]
      ])("rejects %s with KeyNotFound", (_, command) => {
        keys.given(gone).when(command).thenFails(KeyNotFound)
      })

      it("rejects AddKey on the same id with AlreadyExists", () =>
        keys.given(gone).when(addKey()).thenFails(AlreadyExists))

      it("rejects another user's commands with KeyNotFound, revealing nothing", () =>
        keys
          .given(gone)
          .when(new DeleteKey({ keyId: k1, userId: bob, at }))
          .thenFails(KeyNotFound))

      it("stays deleted whatever key events follow", () => {
        const { key } = keys.given({ key: [added, deleted, renamed("Zombie"), deactivated] }).state()
        expect(key).toEqual({ _tag: "Deleted", keyId: k1, userId: alice })
      })
    })
  })

  describe("MarkKeyInvalid", () => {
    const mark = new MarkKeyInvalid({ keyId: k1, at: later })

    describe("given a valid key", () => {
      it("marks it invalid", () =>
        keys
          .given(aliceWithKey)
          .when(mark)
          .then([new KeyMarkedInvalid({ keyId: k1, userId: alice, at: later })]))
    })

    describe("given a key already marked invalid", () => {
      it("decides nothing the second time", () =>
        keys
          .given({ ...aliceWithKey, key: [added, markedInvalid] })
          .when(mark)
          .thenNothing())

      // Issue 13 changed this: a rename used to re-arm the key, so it was marked invalid a second time.
      it("does not mark it again after a rename: the README promises once", () =>
        keys
          .given({ ...aliceWithKey, key: [added, markedInvalid, renamed("Main")] })
          .when(mark)
          .thenNothing())

      it("marks it again once the user re-activated it", () =>
        keys
          .given({
            ...aliceWithKey,
            key: [added, markedInvalid, new KeyActiveSet({ keyId: k1, userId: alice, isActive: true, at })]
          })
          .when(mark)
          .then([new KeyMarkedInvalid({ keyId: k1, userId: alice, at: later })]))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () => keys.given().when(mark).thenFails(KeyNotFound))

      it("rejects a deleted key with KeyNotFound", () =>
        keys
          .given({ key: [added, deleted] })
          .when(mark)
          .thenFails(KeyNotFound))
    })
  })

  describe("RecordSyncFailure", () => {
    const fail = (error: string) => new RecordSyncFailure({ keyId: k1, error, at: later })
    const failed = (error: string) => new KeySyncFailed({ keyId: k1, userId: alice, error, at: later })

    describe("given a healthy key", () => {
      it("records the failure", () =>
        keys
          .given(aliceWithKey)
          .when(fail("HTTP 502"))
          .then([failed("HTTP 502")]))
    })

    describe("given a failure streak", () => {
      const failing = { ...aliceWithKey, key: [added, syncFailed] }

      it("decides nothing for further failures of the same streak", () =>
        keys.given(failing).when(fail("timeout")).thenNothing())

      it("records a new failure after a status ended the streak", () =>
        keys
          .given({ ...aliceWithKey, key: [added, syncFailed, statusRecorded(status())] })
          .when(fail("timeout"))
          .then([failed("timeout")]))

      it("records a new failure after a re-activation ended the streak", () =>
        keys
          .given({ ...aliceWithKey, key: [added, syncFailed, deactivated, reactivated] })
          .when(fail("timeout"))
          .then([failed("timeout")]))
    })

    describe("given no such key", () => {
      it("rejects an unknown key with KeyNotFound", () => keys.given().when(fail("x")).thenFails(KeyNotFound))

      it("rejects a deleted key with KeyNotFound", () =>
        keys
          .given({ key: [added, deleted] })
          .when(fail("x"))
          .thenFails(KeyNotFound))
    })
  })
})
