import { ApiKeyCommands, ApiKeyId, ApiTokenCommands, ApiTokenId, UserCommands, UserId } from "@orw/domain"
import { DateTime, Redacted } from "effect"
import type { EventMetadata } from "../../src/EventStore.js"

/** Metadata of a command issued by a test. */
export const testMetadata = (actor: string | null = null): EventMetadata => ({
  actor,
  source: "cli",
  correlationId: "test-correlation",
  causationId: null,
  requestId: null
})

export const at = (iso = "2026-11-29T10:00:00Z") => DateTime.unsafeMake(iso)

/** A syntactically valid OpenRouter key made from a seed (tests only). */
export const fakeKey = (seed: number) => `sk-or-v1-${seed.toString(16).padStart(64, "0")}`

export const register = (userId: string, email: string, when = at()) =>
  new UserCommands.RegisterUser({ userId: UserId.make(userId), email, passwordHash: "$argon2id$test", at: when })

export const addKey = (
  keyId: string,
  userId: string,
  options: { max?: number; seed?: number; name?: string; ciphertext?: string } = {}
) =>
  new ApiKeyCommands.AddKey({
    keyId: ApiKeyId.make(keyId),
    userId: UserId.make(userId),
    name: options.name ?? `key ${keyId}`,
    key: Redacted.make(fakeKey(options.seed ?? 1)),
    label: "sk-or-v1-000...001",
    keyHash: `hash-${keyId}`,
    ciphertext: options.ciphertext ?? `sealed-${keyId}`,
    maxKeysPerUser: options.max ?? 10,
    at: at()
  })

export const issueToken = (tokenId: string, userId: string) =>
  new ApiTokenCommands.IssueToken({
    tokenId: ApiTokenId.make(tokenId),
    userId: UserId.make(userId),
    name: `token ${tokenId}`,
    tokenHash: `tokenhash-${tokenId}`,
    at: at()
  })
