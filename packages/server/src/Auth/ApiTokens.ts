import * as NodeCrypto from "node:crypto"
import { Redacted } from "effect"

/** Public-API tokens: `or_api_` + 64 base64url characters (48 random bytes). */
export const API_TOKEN_PREFIX = "or_api_"
export const API_TOKEN_FORMAT = /^or_api_[A-Za-z0-9_-]{64}$/

/** SHA-256 (hex) of a token: the only form that is stored. */
export const hashApiToken = (token: Redacted.Redacted<string> | string): string =>
  NodeCrypto.createHash("sha256")
    .update(typeof token === "string" ? token : Redacted.value(token), "utf8")
    .digest("hex")

/** A new token (shown to its owner once) and its hash (stored). */
export const generateApiToken = (): { readonly token: Redacted.Redacted<string>; readonly hash: string } => {
  const token = `${API_TOKEN_PREFIX}${NodeCrypto.randomBytes(48).toString("base64url")}`
  return { token: Redacted.make(token), hash: hashApiToken(token) }
}

/**
 * Compares two hashes in constant time. Different lengths are unequal at once: a length is no
 * secret (every SHA-256 hex is 64 characters), and timingSafeEqual needs equal lengths.
 */
export const sameHash = (a: string, b: string): boolean => {
  const left = Buffer.from(a, "utf8")
  const right = Buffer.from(b, "utf8")
  return left.length === right.length && NodeCrypto.timingSafeEqual(left, right)
}
