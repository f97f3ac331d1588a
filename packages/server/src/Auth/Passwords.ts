import * as NodeOs from "node:os"
import { hash, type Options, verify } from "@node-rs/argon2"
import { ServerBusy } from "@orw/domain"
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

const make = (options: Options): PasswordHasher => ({
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

/** What hashes and checks passwords, unbounded. */
export interface PasswordHasher {
  readonly hash: (password: Redacted.Redacted<string>) => Effect.Effect<string>
  readonly verify: (password: Redacted.Redacted<string>, stored: string) => Effect.Effect<boolean>
}

/** How much argon2 work may be in flight: running at once, and waiting for a turn beyond that. */
export interface HashLimits {
  readonly concurrency: number
  readonly waiting: number
}

/** One hash per core at a time, and a short queue: a login waits at most a few hashes' time or is refused. */
export const DEFAULT_HASH_LIMITS: HashLimits = {
  concurrency: Math.max(1, NodeOs.availableParallelism()),
  waiting: 4 * Math.max(1, NodeOs.availableParallelism())
}

/**
 * `hasher` with bounded work: at most `concurrency` hashes run at once and `waiting` wait; a call beyond
 * that fails at once with {@link ServerBusy} (503). Each argon2id hash takes 19 MiB and tens of
 * milliseconds of a core, so an unbounded login flood would starve every other request of CPU.
 */
export const bounded = (hasher: PasswordHasher, limits: HashLimits) => {
  const turns = Effect.unsafeMakeSemaphore(limits.concurrency)
  let admitted = 0
  const admit = <A>(work: Effect.Effect<A>): Effect.Effect<A, ServerBusy> =>
    Effect.suspend(() => {
      if (admitted >= limits.concurrency + limits.waiting) return Effect.fail(new ServerBusy())
      admitted++
      return turns
        .withPermits(1)(work)
        .pipe(
          Effect.ensuring(
            Effect.sync(() => {
              admitted--
            })
          )
        )
    })
  return {
    hash: (password: Redacted.Redacted<string>) => admit(hasher.hash(password)),
    verify: (password: Redacted.Redacted<string>, stored: string) => admit(hasher.verify(password, stored))
  }
}

/** Password hashing (argon2id), bounded by {@link DEFAULT_HASH_LIMITS}. */
export class Passwords extends Effect.Service<Passwords>()("orw/Passwords", {
  succeed: bounded(make(PRODUCTION), DEFAULT_HASH_LIMITS)
}) {
  /** argon2id with minimal cost: for tests only (hashes still verify under the default layer). */
  static readonly Test = Layer.succeed(Passwords, Passwords.make(bounded(make(CHEAP), DEFAULT_HASH_LIMITS)))
  /** argon2id (production cost, or `cheap`) with the given limits: for tests of the bound. */
  static readonly layerWith = (limits: HashLimits, cheap = false) =>
    Layer.succeed(Passwords, Passwords.make(bounded(make(cheap ? CHEAP : PRODUCTION), limits)))
  /** Any hasher with the given limits (a test's hasher that waits on a signal). */
  static readonly layerFrom = (hasher: PasswordHasher, limits: HashLimits) =>
    Layer.succeed(Passwords, Passwords.make(bounded(hasher, limits)))
}
