import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Redacted, TestClock } from "effect"
import { base64url, decodeJwt, SignJWT, UnsecuredJWT } from "jose"
import { endedBy, Jwt } from "../src/Auth/Jwt.js"
import { AppConfig } from "../src/Config.js"

const SECRET = "jwt-test-secret-0123456789abcdef0123456789"
const layer = (secret = SECRET, hours = 24) =>
  Jwt.Default.pipe(Layer.provide(AppConfig.layerTest({ secretKey: Redacted.make(secret), jwtExpirationHours: hours })))

const issuedAt = DateTime.unsafeMake("2026-11-29T10:00:00.123Z")
const startMs = DateTime.toEpochMillis(issuedAt)

/** Issues for u1 at `issuedAt` and sets the clock there. */
const issue = Effect.gen(function* () {
  yield* TestClock.setTime(startMs)
  const jwt = yield* Jwt
  const issued = yield* jwt.issue("u1", issuedAt)
  return { jwt, token: Redacted.value(issued.token), expiresIn: issued.expiresIn }
})

const expectInvalid = (token: string) =>
  Effect.gen(function* () {
    const jwt = yield* Jwt
    const error = yield* Effect.flip(jwt.verify(token))
    expect(error._tag).toBe("InvalidSession")
    expect(error.message).toBe("Invalid or expired token")
    if (token !== "") expect(JSON.stringify(error) + String(error)).not.toContain(token.slice(0, 20))
  })

describe("Jwt", () => {
  it.effect("round trip: HS256 with sub, iat, exp, jti and iat in milliseconds", () =>
    Effect.gen(function* () {
      const { jwt, token, expiresIn } = yield* issue
      expect(expiresIn).toBe(24 * 3600)
      const session = yield* jwt.verify(token)
      expect(session).toMatchObject({
        userId: "u1",
        issuedAt: Math.floor(startMs / 1000),
        issuedAtMs: startMs,
        expiresAt: Math.floor(startMs / 1000) + 24 * 3600
      })
      expect(session.tokenId).toMatch(/^[0-9a-f-]{36}$/)
      expect(JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[0]!)))).toEqual({
        alg: "HS256",
        typ: "JWT"
      })
      const other = yield* jwt.issue("u1", issuedAt)
      expect(decodeJwt(Redacted.value(other.token)).jti).not.toBe(session.tokenId)
    }).pipe(Effect.provide(layer()))
  )

  it.effect("expiresIn follows JWT_EXPIRATION_HOURS", () =>
    Effect.gen(function* () {
      const { token, expiresIn } = yield* issue
      expect(expiresIn).toBe(2 * 3600)
      const claims = decodeJwt(token)
      expect(claims.exp! - claims.iat!).toBe(2 * 3600)
    }).pipe(Effect.provide(layer(SECRET, 2)))
  )

  it.effect("expired: valid just before exp, invalid from exp on", () =>
    Effect.gen(function* () {
      const { jwt, token } = yield* issue
      const exp = decodeJwt(token).exp!
      yield* TestClock.setTime(exp * 1000 - 1)
      expect((yield* jwt.verify(token)).userId).toBe("u1")
      yield* TestClock.setTime(exp * 1000)
      yield* expectInvalid(token)
    }).pipe(Effect.provide(layer()))
  )

  it.effect("tampered payload or signature, garbage and empty tokens are invalid", () =>
    Effect.gen(function* () {
      const { token } = yield* issue
      const [header, payload, signature] = token.split(".") as [string, string, string]
      const forged = base64url.encode(JSON.stringify({ ...decodeJwt(token), sub: "admin" }))
      yield* expectInvalid(`${header}.${forged}.${signature}`)
      const flipped = `${signature.slice(0, 5)}${signature[5] === "A" ? "B" : "A"}${signature.slice(6)}`
      yield* expectInvalid(`${header}.${payload}.${flipped}`)
      yield* expectInvalid(`${header}.${payload}.`)
      yield* expectInvalid("not.a.jwt")
      yield* expectInvalid("")
    }).pipe(Effect.provide(layer()))
  )

  it.effect("alg none and other algorithms are refused", () =>
    Effect.gen(function* () {
      yield* issue
      const claims = { sub: "u1", jti: "j", iat_ms: startMs }
      const iat = Math.floor(startMs / 1000)
      const none = new UnsecuredJWT(claims)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .encode()
      yield* expectInvalid(none)
      const hs512 = yield* Effect.promise(() =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: "HS512" })
          .setIssuedAt(iat)
          .setExpirationTime(iat + 3600)
          .sign(new TextEncoder().encode(SECRET))
      )
      yield* expectInvalid(hs512)
    }).pipe(Effect.provide(layer()))
  )

  it.effect("a token signed with another secret is invalid", () =>
    Effect.gen(function* () {
      const { token } = yield* issue.pipe(Effect.provide(layer("another-secret-0123456789abcdef012345")))
      yield* expectInvalid(token)
    }).pipe(Effect.provide(layer()))
  )

  it.effect("a password change ends sessions issued before it, not one issued in the same second after it", () =>
    Effect.gen(function* () {
      const { jwt, token } = yield* issue
      const session = yield* jwt.verify(token)
      expect(endedBy(session, null)).toBe(false)
      expect(endedBy(session, DateTime.unsafeMake(startMs + 1))).toBe(true)
      expect(endedBy(session, DateTime.unsafeMake(startMs))).toBe(false)
      expect(endedBy(session, DateTime.unsafeMake(startMs - 100))).toBe(false)
    }).pipe(Effect.provide(layer()))
  )
})
