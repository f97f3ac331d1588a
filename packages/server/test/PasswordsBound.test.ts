import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Redacted } from "effect"
import { bounded, type PasswordHasher } from "../src/Auth/Passwords.js"

describe("Passwords: bounded argon2 work (issue 13)", () => {
  it.effect("runs `concurrency` at once, queues `waiting`, and refuses the next one at once with ServerBusy", () =>
    Effect.gen(function* () {
      const release = yield* Deferred.make<void>()
      let running = 0
      let most = 0
      const slow: PasswordHasher = {
        hash: () =>
          Effect.gen(function* () {
            most = Math.max(most, ++running)
            yield* Deferred.await(release)
            running--
            return "hash"
          }),
        verify: () => Effect.succeed(true)
      }
      const passwords = bounded(slow, { concurrency: 2, waiting: 1 })
      const admitted = yield* Effect.all(
        Array.from({ length: 3 }, () => Effect.fork(passwords.hash(Redacted.make("x")))),
        { concurrency: "unbounded" }
      )
      yield* Effect.yieldNow()
      const refused = yield* Effect.exit(passwords.verify(Redacted.make("x"), "stored"))
      expect(Exit.isFailure(refused) && refused.cause._tag === "Fail" && refused.cause.error._tag).toBe("ServerBusy")
      yield* Deferred.succeed(release, undefined)
      const results = yield* Effect.all(admitted.map(Fiber.join))
      expect(results).toEqual(["hash", "hash", "hash"])
      expect(most).toBe(2)
      // Once the work is done there is room again.
      expect(yield* passwords.verify(Redacted.make("x"), "stored")).toBe(true)
    })
  )
})
