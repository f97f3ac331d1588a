import { hash, type Options, verify } from "@node-rs/argon2"
import { passwordProblems as problemsOf } from "@orw/domain/User/Password"
import { Effect, Layer, Redacted } from "effect"

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "@orw/domain/User/Password"

/** The shared password rules (see `@orw/domain/User/Password`), on a plain or redacted password. */
export const passwordProblems = (password: Redacted.Redacted<string> | string): ReadonlyArray<string> =>
  problemsOf(typeof password === "string" ? password : Redacted.value(password))

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
