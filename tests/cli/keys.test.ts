import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Core from "@orw/server/Core"
import { makeKeyVault } from "@orw/server/Crypto/KeyVault"
import { Dispatcher } from "@orw/server/Dispatcher"
import { Effect, Either, Layer, Redacted } from "effect"
import { addKey, register, testMetadata } from "../../packages/server/test/support/Fixtures.js"
import { orw } from "./fixture.js"

const OLD = "a".repeat(64)
const NEW = "b".repeat(64)
const SECRET = "s".repeat(40)
const PLAINTEXT = `sk-or-v1-${"c".repeat(64)}`

/** A database with one key sealed under the OLD master key; returns its file and ciphertext. */
const seed = Effect.gen(function* () {
  const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-rotate-")), "app.db")
  const ciphertext = yield* Effect.gen(function* () {
    const vault = yield* makeKeyVault(Redacted.make(OLD))
    const dispatcher = yield* Dispatcher
    yield* dispatcher.dispatch(register("u1", "rotate@example.com"), { metadata: testMetadata() })
    const sealed = yield* vault.seal("k1", "u1", Redacted.make(PLAINTEXT))
    yield* dispatcher.dispatch(addKey("k1", "u1", { ciphertext: sealed.ciphertext }), {
      metadata: testMetadata(),
      inTransaction: vault.storeInTransaction(sealed.vaultRow)
    })
    return sealed.ciphertext
  }).pipe(Effect.provide(Core.layerFile(file)))
  return { file, ciphertext }
})

const openWith = (file: string, ciphertext: string, master: string) =>
  Effect.flatMap(makeKeyVault(Redacted.make(master)), (vault) =>
    Effect.either(vault.open("k1", "u1", ciphertext))
  ).pipe(Effect.provide(Layer.fresh(Core.layerFile(file))))

describe("orw keys rotate-master-key", () => {
  it.live("re-wraps every data key under the new master key, in the real CLI", () =>
    Effect.gen(function* () {
      const { file, ciphertext } = yield* seed
      const env = { DATABASE_URL: file, SECRET_KEY: SECRET, ENCRYPTION_KEY: OLD, NEW_ENCRYPTION_KEY: NEW }
      const run = yield* Effect.promise(() => orw(["keys", "rotate-master-key"], env))
      expect(run.stderr).toBe("")
      expect(run.code).toBe(0)
      expect(run.stdout).toMatch(/^Re-wrapped 1 data key\(s\)/)
      expect(run.stdout).not.toContain(OLD)
      expect(run.stdout).not.toContain(NEW)
      const withNew = yield* openWith(file, ciphertext, NEW)
      expect(Either.isRight(withNew) && Redacted.value(withNew.right)).toBe(PLAINTEXT)
      const withOld = yield* openWith(file, ciphertext, OLD)
      expect(Either.isLeft(withOld)).toBe(true)
      // Running it again has nothing left to do.
      const again = yield* Effect.promise(() =>
        orw(["keys", "rotate-master-key"], { ...env, ENCRYPTION_KEY: NEW, NEW_ENCRYPTION_KEY: NEW })
      )
      expect(again.stdout).toMatch(/^Re-wrapped 0 data key\(s\)/)
    })
  )

  it.live("a wrong old master key fails in one line and changes nothing", () =>
    Effect.gen(function* () {
      const { file, ciphertext } = yield* seed
      const wrong = "d".repeat(64)
      const run = yield* Effect.promise(() =>
        orw(["keys", "rotate-master-key"], {
          DATABASE_URL: file,
          SECRET_KEY: SECRET,
          ENCRYPTION_KEY: wrong,
          NEW_ENCRYPTION_KEY: NEW
        })
      )
      expect(run.code).not.toBe(0)
      expect(run.stderr.trim().split("\n")).toHaveLength(1)
      expect(run.stderr).toMatch(/^orw: /)
      expect(run.stderr).not.toContain(wrong)
      const withOld = yield* openWith(file, ciphertext, OLD)
      expect(Either.isRight(withOld)).toBe(true)
    })
  )
})
