import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { EmailAlreadyRegistered, InvalidEmail, UserNotFound } from "../src/Errors.js"
import { ApiKeyId, UserId } from "../src/Ids.js"
import { ChangePassword, DeleteUser, RegisterUser } from "../src/User/Commands.js"
import {
  decideUser,
  evolveEmail,
  evolveUser,
  initialEmailState,
  initialUserState,
  normalizeEmail
} from "../src/User/Decider.js"
import {
  EmailClaimed,
  EmailReleased,
  KeyAttached,
  KeyDetached,
  PasswordChanged,
  UserDeleted,
  UserRegistered
} from "../src/User/Events.js"
import { spec, stream } from "./support/DeciderSpec.js"

const users = spec(
  { user: stream(initialUserState, evolveUser), email: stream(initialEmailState, evolveEmail) },
  decideUser
)

const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
const later = DateTime.unsafeMake("2026-11-30T08:30:00Z")
const alice = UserId.make("u-alice")
const bob = UserId.make("u-bob")
const email = "alice@example.com"

const registered = new UserRegistered({ userId: alice, email, passwordHash: "hash-1", at })
const claimed = new EmailClaimed({ email, userId: alice, at })
const deleted = new UserDeleted({ userId: alice, email, at: later })
const released = new EmailReleased({ email, userId: alice, at: later })

describe("User decider", () => {
  describe("RegisterUser", () => {
    describe("given a fresh user stream and a free email", () => {
      it("claims the normalized email and registers the user", () =>
        users
          .given()
          .when(new RegisterUser({ userId: alice, email: "  Alice@Example.COM ", passwordHash: "hash-1", at }))
          .then([
            new EmailClaimed({ email: "alice@example.com", userId: alice, at }),
            new UserRegistered({ userId: alice, email: "alice@example.com", passwordHash: "hash-1", at })
          ]))

      it.each([
        ["no at sign", "alice.example.com"],
        ["no domain dot", "alice@example"],
        ["one-letter top-level domain", "alice@example.c"],
        ["a space inside", "ali ce@example.com"],
        ["two at signs", "alice@@example.com"],
        ["empty", ""],
        ["blank", "   "],
        ["over 255 characters", `${"a".repeat(250)}@example.com`]
      ])("rejects an invalid email (%s) with InvalidEmail", (_, bad) => {
        users
          .given()
          .when(new RegisterUser({ userId: alice, email: bad, passwordHash: "h", at }))
          .thenFails(InvalidEmail)
      })
    })

    describe("given the email is claimed by another user", () => {
      it("rejects with EmailAlreadyRegistered, whatever the case and spacing", () => {
        const error = users
          .given({ email: [claimed] })
          .when(new RegisterUser({ userId: bob, email: " ALICE@example.com", passwordHash: "h", at }))
          .thenFails(EmailAlreadyRegistered)
        expect(error.message).toBe("Email already registered")
      })

      it("checks the format before the owner: an invalid email is InvalidEmail", () =>
        users
          .given({ email: [claimed] })
          .when(new RegisterUser({ userId: bob, email: "alice@example", passwordHash: "h", at }))
          .thenFails(InvalidEmail))
    })

    describe("given the user stream is already registered", () => {
      it("rejects a second registration of the same user id, even with a free email", () =>
        users
          .given({ user: [registered] })
          .when(new RegisterUser({ userId: alice, email: "other@example.com", passwordHash: "h", at }))
          .thenFails(EmailAlreadyRegistered))
    })

    describe("given the user was deleted", () => {
      it("does not bring the deleted user stream back", () =>
        users
          .given({ user: [registered, deleted] })
          .when(new RegisterUser({ userId: alice, email: "other@example.com", passwordHash: "h", at }))
          .thenFails(EmailAlreadyRegistered))
    })

    describe("given the email was claimed and then released", () => {
      it("lets another user claim it again", () =>
        users
          .given({ email: [claimed, released] })
          .when(new RegisterUser({ userId: bob, email: "Alice@example.com", passwordHash: "hash-2", at: later }))
          .then([
            new EmailClaimed({ email, userId: bob, at: later }),
            new UserRegistered({ userId: bob, email, passwordHash: "hash-2", at: later })
          ]))
    })
  })

  describe("ChangePassword", () => {
    describe("given a registered user", () => {
      it("records the new hash", () =>
        users
          .given({ user: [registered] })
          .when(new ChangePassword({ userId: alice, passwordHash: "hash-2", at: later }))
          .then([new PasswordChanged({ userId: alice, passwordHash: "hash-2", at: later })]))

      it("keeps the user registered with its keyring after a change", () => {
        const keyId = ApiKeyId.make("k1")
        const { user } = users
          .given({
            user: [
              registered,
              new KeyAttached({ userId: alice, keyId, at }),
              new PasswordChanged({ userId: alice, passwordHash: "hash-2", at })
            ]
          })
          .state()
        expect(user).toEqual({ _tag: "Registered", userId: alice, email, keyIds: [keyId], keyHashes: [] })
      })
    })

    describe("given an unregistered user", () => {
      it("rejects with UserNotFound", () =>
        users
          .given()
          .when(new ChangePassword({ userId: alice, passwordHash: "h", at }))
          .thenFails(UserNotFound))
    })

    describe("given a deleted user", () => {
      it("rejects with UserNotFound", () =>
        users
          .given({ user: [registered, deleted] })
          .when(new ChangePassword({ userId: alice, passwordHash: "h", at }))
          .thenFails(UserNotFound))
    })
  })

  describe("DeleteUser", () => {
    describe("given a registered user", () => {
      it("deletes the user and releases their email", () =>
        users
          .given({ user: [registered] })
          .when(new DeleteUser({ userId: alice, at: later }))
          .then([
            new UserDeleted({ userId: alice, email, at: later }),
            new EmailReleased({ email, userId: alice, at: later })
          ]))
    })

    describe("given a deleted user", () => {
      it("rejects a second delete with UserNotFound", () =>
        users
          .given({ user: [registered, deleted] })
          .when(new DeleteUser({ userId: alice, at: later }))
          .thenFails(UserNotFound))
    })

    describe("given an unregistered user", () => {
      it("rejects with UserNotFound", () =>
        users
          .given()
          .when(new DeleteUser({ userId: alice, at }))
          .thenFails(UserNotFound))
    })
  })

  describe("evolve", () => {
    it("tracks the keyring through attach and detach", () => {
      const k1 = ApiKeyId.make("k1")
      const k2 = ApiKeyId.make("k2")
      const { user } = users
        .given({
          user: [
            registered,
            new KeyAttached({ userId: alice, keyId: k1, keyHash: "h1", at }),
            new KeyAttached({ userId: alice, keyId: k2, keyHash: "h2", at }),
            new KeyDetached({ userId: alice, keyId: k1, at })
          ]
        })
        .state()
      // The keyring keeps each attached key's hash until that key is detached.
      expect(user).toEqual({
        _tag: "Registered",
        userId: alice,
        email,
        keyIds: [k2],
        keyHashes: [{ keyId: k2, keyHash: "h2" }]
      })
    })

    it("normalizes emails by trimming and lower-casing", () => {
      expect(normalizeEmail("  Alice@Example.COM\t")).toBe("alice@example.com")
    })
  })
})
