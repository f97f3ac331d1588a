import * as NodeCrypto from "node:crypto"
import { Clock, DateTime, Effect, Redacted, Schema } from "effect"
import { jwtVerify, SignJWT } from "jose"
import { AppConfig } from "../Config.js"

/** 401 for any session token that does not verify: expired, tampered, wrong algorithm or garbage. */
export class InvalidSession extends Schema.TaggedError<InvalidSession>()("InvalidSession", {}) {
  readonly status = 401
  override get message() {
    return "Invalid or expired token"
  }
}

/** A verified session. */
export interface Session {
  readonly userId: string
  /** `iat`, in seconds. */
  readonly issuedAt: number
  /** When it was issued, in milliseconds (the `iat_ms` claim): what password changes are compared with. */
  readonly issuedAtMs: number
  /** `jti`. */
  readonly tokenId: string
  /** `exp`, in seconds. */
  readonly expiresAt: number
}

const Claims = Schema.Struct({
  sub: Schema.NonEmptyString,
  iat: Schema.Int,
  exp: Schema.Int,
  jti: Schema.NonEmptyString,
  iat_ms: Schema.optional(Schema.Int)
})

/**
 * Whether a password change (or anything else that ends sessions) at `changedAt` ends this session.
 * Compared in milliseconds, and a session issued in the same millisecond survives: a login right after
 * a change must not be locked out, while the chance that a session issued just before it shares the
 * millisecond is negligible (with whole seconds, a login in the same second would be locked out).
 */
export const endedBy = (session: Session, changedAt: DateTime.DateTime | null): boolean =>
  changedAt !== null && session.issuedAtMs < DateTime.toEpochMillis(changedAt)

/** Sessions as HS256 JWTs signed with SECRET_KEY, valid JWT_EXPIRATION_HOURS (AppConfig, provided by the root). */
export class Jwt extends Effect.Service<Jwt>()("orw/Jwt", {
  effect: Effect.gen(function* () {
    const config = yield* AppConfig
    const secret = Redacted.make(new TextEncoder().encode(Redacted.value(config.secretKey)))
    const lifetimeSeconds = config.jwtExpirationHours * 3600

    /** A token for `userId` issued at `now`; `expiresIn` in seconds, as the login response wants it. */
    const issue = Effect.fn("Jwt.issue")(function* (userId: string, now: DateTime.DateTime) {
      const nowMs = DateTime.toEpochMillis(now)
      const iat = Math.floor(nowMs / 1000)
      const token = yield* Effect.promise(() =>
        new SignJWT({ iat_ms: nowMs })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setSubject(userId)
          .setIssuedAt(iat)
          .setExpirationTime(iat + lifetimeSeconds)
          .setJti(NodeCrypto.randomUUID())
          .sign(Redacted.value(secret))
      )
      return { token: Redacted.make(token), expiresIn: lifetimeSeconds }
    })

    /** The session a token carries, checked against the Clock; anything wrong is one {@link InvalidSession}. */
    const verify = Effect.fn("Jwt.verify")(function* (token: Redacted.Redacted<string> | string) {
      const currentDate = new Date(yield* Clock.currentTimeMillis)
      const raw = typeof token === "string" ? token : Redacted.value(token)
      const { payload } = yield* Effect.tryPromise({
        try: () =>
          jwtVerify(raw, Redacted.value(secret), { algorithms: ["HS256"], currentDate, requiredClaims: ["exp"] }),
        catch: () => new InvalidSession()
      })
      const claims = yield* Effect.mapError(Schema.decodeUnknown(Claims)(payload), () => new InvalidSession())
      return {
        userId: claims.sub,
        issuedAt: claims.iat,
        issuedAtMs: claims.iat_ms ?? claims.iat * 1000,
        tokenId: claims.jti,
        expiresAt: claims.exp
      } satisfies Session
    })

    return { issue, verify } as const
  })
}) {}
