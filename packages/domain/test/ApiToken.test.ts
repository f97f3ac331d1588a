import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { IssueToken, RevokeToken } from "../src/ApiToken/Commands.js"
import { decideApiToken, evolveApiToken, initialApiTokenState } from "../src/ApiToken/Decider.js"
import { TokenIssued, TokenRevoked } from "../src/ApiToken/Events.js"
import { AlreadyExists, InvalidName, statusOf, TokenForbidden, TokenNotFound, UserNotFound } from "../src/Errors.js"
import { ApiTokenId, UserId } from "../src/Ids.js"
import { evolveUser, initialUserState } from "../src/User/Decider.js"
import { UserDeleted, UserRegistered } from "../src/User/Events.js"
import { spec, stream } from "./support/DeciderSpec.js"

const tokens = spec(
  { user: stream(initialUserState, evolveUser), token: stream(initialApiTokenState, evolveApiToken) },
  decideApiToken
)

const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
const later = DateTime.unsafeMake("2026-12-01T09:15:00Z")
const alice = UserId.make("u-alice")
const bob = UserId.make("u-bob")
const t1 = ApiTokenId.make("t1")
const tokenHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

const registered = new UserRegistered({ userId: alice, email: "alice@example.com", passwordHash: "h", at })
const issued = new TokenIssued({ tokenId: t1, userId: alice, name: "Grafana", tokenHash, at })
const revoked = new TokenRevoked({ tokenId: t1, userId: alice, at })

const issue = (fields: Partial<ConstructorParameters<typeof IssueToken>[0]> = {}) =>
  new IssueToken({ tokenId: t1, userId: alice, name: "Grafana", tokenHash, at, ...fields })
const revoke = (userId: UserId = alice) => new RevokeToken({ tokenId: t1, userId, at: later })

describe("ApiToken decider", () => {
  describe("IssueToken", () => {
    describe("given a registered user and a fresh token id", () => {
      it("issues the token, keeping only its hash", () =>
        tokens
          .given({ user: [registered] })
          .when(issue())
          .then([issued]))

      it.each([
        ["empty", ""],
        ["blank", " \t "],
        ["over 100 characters", "t".repeat(101)]
      ])("rejects a name that is %s as InvalidName", (_, name) => {
        tokens
          .given({ user: [registered] })
          .when(issue({ name }))
          .thenFails(InvalidName)
      })

      it("accepts a name of exactly 100 characters", () =>
        tokens
          .given({ user: [registered] })
          .when(issue({ name: "t".repeat(100) }))
          .then([new TokenIssued({ tokenId: t1, userId: alice, name: "t".repeat(100), tokenHash, at })]))
    })

    describe("given no such user", () => {
      it("rejects an unregistered user with UserNotFound", () => tokens.given().when(issue()).thenFails(UserNotFound))

      it("rejects a deleted user with UserNotFound", () =>
        tokens
          .given({ user: [registered, new UserDeleted({ userId: alice, email: "alice@example.com", at })] })
          .when(issue())
          .thenFails(UserNotFound))

      it("rejects a command for another user than the one loaded with UserNotFound", () =>
        tokens
          .given({ user: [registered] })
          .when(issue({ userId: bob }))
          .thenFails(UserNotFound))
    })

    describe("given the token id already has a history", () => {
      it("rejects reusing an active token's id with AlreadyExists", () =>
        tokens
          .given({ user: [registered], token: [issued] })
          .when(issue({ name: "Other" }))
          .thenFails(AlreadyExists))

      it("rejects reusing a revoked token's id with AlreadyExists", () =>
        tokens
          .given({ user: [registered], token: [issued, revoked] })
          .when(issue())
          .thenFails(AlreadyExists))
    })
  })

  describe("RevokeToken", () => {
    describe("given the user's active token", () => {
      it("revokes it", () =>
        tokens
          .given({ user: [registered], token: [issued] })
          .when(revoke())
          .then([new TokenRevoked({ tokenId: t1, userId: alice, at: later })]))
    })

    describe("given a revoked token", () => {
      it("rejects a second revocation with TokenNotFound (404 by contract)", () => {
        const error = tokens
          .given({ user: [registered], token: [issued, revoked] })
          .when(revoke())
          .thenFails(TokenNotFound)
        expect(statusOf(error)).toBe(404)
      })
    })

    describe("given no such token", () => {
      it("rejects with TokenNotFound", () =>
        tokens
          .given({ user: [registered] })
          .when(revoke())
          .thenFails(TokenNotFound))
    })

    describe("given another user's token", () => {
      it("rejects with TokenForbidden", () =>
        tokens
          .given({ token: [issued] })
          .when(revoke(bob))
          .thenFails(TokenForbidden))
    })
  })

  describe("evolve: a revoked token stays revoked", () => {
    it("is Active once issued", () =>
      expect(tokens.given({ token: [issued] }).state().token).toEqual({ _tag: "Active", tokenId: t1, userId: alice }))

    it("is not made Active again by a TokenIssued after TokenRevoked", () =>
      expect(tokens.given({ token: [issued, revoked, issued] }).state().token).toEqual({
        _tag: "Revoked",
        tokenId: t1,
        userId: alice
      }))

    it("still refuses to revoke or re-issue after such a history", () => {
      const history = { user: [registered], token: [issued, revoked, issued] }
      tokens.given(history).when(revoke()).thenFails(TokenNotFound)
      tokens.given(history).when(issue()).thenFails(AlreadyExists)
    })

    it("keeps the first issue when a TokenIssued repeats", () =>
      expect(
        tokens
          .given({ token: [issued, new TokenIssued({ tokenId: t1, userId: bob, name: "x", tokenHash, at })] })
          .state().token
      ).toEqual({ _tag: "Active", tokenId: t1, userId: alice }))
  })
})
