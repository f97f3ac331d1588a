import { hash, type Options, verify } from "@node-rs/argon2"
import { Effect, Layer, Redacted } from "effect"

export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 128

/**
 * What is wrong with a new password, in the original's words; empty when it is acceptable: 12 to 128
 * characters (code points), an uppercase letter, a lowercase letter, a digit and a special character.
 * Letters are Unicode-aware, and "special" is any character that is neither a letter nor a digit
 * (space and punctuation included): a superset of the original's `!@#$%^&*`, so every password the
 * original accepted is still accepted, and nobody has to guess which symbols count.
 */
export const passwordProblems = (password: Redacted.Redacted<string> | string): ReadonlyArray<string> => {
  const text = typeof password === "string" ? password : Redacted.value(password)
  const length = [...text].length
  const problems: Array<string> = []
  if (length < PASSWORD_MIN_LENGTH) problems.push(`Password must be at least ${PASSWORD_MIN_LENGTH} characters`)
  if (length > PASSWORD_MAX_LENGTH) problems.push(`Password must be at most ${PASSWORD_MAX_LENGTH} characters`)
  if (!/\p{Lu}/u.test(text)) problems.push("Password must contain uppercase letter")
  if (!/\p{Ll}/u.test(text)) problems.push("Password must contain lowercase letter")
  if (!/\p{Nd}/u.test(text)) problems.push("Password must contain digit")
  if (!/[^\p{L}\p{N}]/u.test(text)) problems.push("Password must contain special character")
  return problems
}

/** `Algorithm.Argon2id`: the enum is an ambient const enum, which `verbatimModuleSyntax` cannot read. */
const ARGON2ID = 2

/** argon2id with @node-rs/argon2's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum). */
const PRODUCTION: Options = { algorithm: ARGON2ID }
/** Still argon2id, cheap enough for test suites that register many users. */
const CHEAP: Options = { algorithm: ARGON2ID, memoryCost: 1024, timeCost: 1 }

const make = (options: Options) => ({
  /** An argon2id PHC string (`$argon2id$v=19$...`) with a random salt. */
  hash: Effect.fn("Passwords.hash")(function* (password: Redacted.Redacted<string>) {
    return yield* Effect.promise((signal) => hash(Redacted.value(password), options, signal))
  }),
  /** Whether the password matches; a malformed stored hash is a mismatch, never an error that echoes it. */
  verify: Effect.fn("Passwords.verify")(function* (password: Redacted.Redacted<string>, stored: string) {
    return yield* Effect.tryPromise((signal) => verify(stored, Redacted.value(password), null, signal)).pipe(
      Effect.orElseSucceed(() => false)
    )
  })
})

/** Password hashing (argon2id). */
export class Passwords extends Effect.Service<Passwords>()("orw/Passwords", { succeed: make(PRODUCTION) }) {
  /** argon2id with minimal cost: for tests only (hashes still verify under the default layer). */
  static readonly Test = Layer.succeed(Passwords, Passwords.make(make(CHEAP)))
}
