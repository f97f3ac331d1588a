import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeyCommands, ApiKeyId, UserId } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { makeKeyVault } from "@orw/server/Crypto/KeyVault"
import { Dispatcher } from "@orw/server/Dispatcher"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { addKey, register, testMetadata } from "../../packages/server/test/support/Fixtures.js"
import { jsonLines, openSqlite, orw } from "./fixture.js"

const MASTER = "e".repeat(64)
const SECRET = "s".repeat(40)

describe("orw sync", () => {
  it.scopedLive("syncs a user's keys with OpenRouter now and records what it learned", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const good = sim.addKey({ limit: 50, usage: { total: 12.5 } })
      const revoked = sim.addKey()
      sim.key(revoked).disabled = true
      const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-sync-")), "app.db")
      yield* Effect.gen(function* () {
        const vault = yield* makeKeyVault(Redacted.make(MASTER))
        const dispatcher = yield* Dispatcher
        yield* dispatcher.dispatch(register("u1", "sync@example.com"), { metadata: testMetadata() })
        for (const [keyId, plaintext] of [
          ["good", good],
          ["revoked", revoked]
        ] as const) {
          const sealed = yield* vault.seal(keyId, "u1", Redacted.make(plaintext))
          yield* dispatcher.dispatch(addKey(keyId, "u1", { ciphertext: sealed.ciphertext }), {
            metadata: testMetadata(),
            inTransaction: vault.storeInTransaction(sealed.vaultRow)
          })
        }
      }).pipe(Effect.provide(Layer.fresh(Core.layerFile(file))))
      const env = { DATABASE_URL: file, SECRET_KEY: SECRET, ENCRYPTION_KEY: MASTER, OPENROUTER_API_URL: server.url }
      const run = yield* Effect.promise(() => orw(["sync", "--user", "sync@example.com", "--json"], env))
      expect(run.code).toBe(1)
      expect(run.stderr.trim()).toBe("orw: 1 of 2 key(s) did not sync")
      const results = jsonLines(run.stdout)
      expect(results.map((r) => [r.key_id, r.outcome, r.recorded])).toEqual([
        ["good", "ok", ["KeyStatusRecorded"]],
        ["revoked", "invalid", ["KeyMarkedInvalid"]]
      ])
      expect(run.stdout + run.stderr).not.toContain(good)
      const db = openSqlite(file)
      const row = db.prepare("SELECT usage_total_micros, limit_micros FROM api_keys WHERE id = 'good'").all()
      db.close()
      expect(row).toEqual([{ usage_total_micros: 12_500_000, limit_micros: 50_000_000 }])
      expect(sim.count("/key")).toBe(2)

      const again = yield* Effect.promise(() => orw(["sync", "--key", "good"], env))
      expect(again.code).toBe(0)
      expect(again.stdout.trim()).toBe("good (key good): ok; nothing new")
      const unknown = yield* Effect.promise(() => orw(["sync", "--key", "nope"], env))
      expect(unknown.code).toBe(1)
      expect(unknown.stderr.trim()).toBe("orw: No stored key with id nope")
    })
  )

  it.scopedLive("never syncs an inactive key: --key of one fails, --user skips it", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const on = sim.addKey({ usage: { total: 1 } })
      const off = sim.addKey({ usage: { total: 2 } })
      const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-sync-")), "app.db")
      yield* Effect.gen(function* () {
        const vault = yield* makeKeyVault(Redacted.make(MASTER))
        const dispatcher = yield* Dispatcher
        yield* dispatcher.dispatch(register("u1", "off@example.com"), { metadata: testMetadata() })
        for (const [keyId, plaintext] of [
          ["on", on],
          ["off", off]
        ] as const) {
          const sealed = yield* vault.seal(keyId, "u1", Redacted.make(plaintext))
          yield* dispatcher.dispatch(addKey(keyId, "u1", { ciphertext: sealed.ciphertext }), {
            metadata: testMetadata(),
            inTransaction: vault.storeInTransaction(sealed.vaultRow)
          })
        }
        const at = yield* DateTime.now
        const edit = new ApiKeyCommands.EditKey({
          keyId: ApiKeyId.make("off"),
          userId: UserId.make("u1"),
          isActive: false,
          at
        })
        yield* dispatcher.dispatch(edit, { metadata: testMetadata() })
      }).pipe(Effect.provide(Layer.fresh(Core.layerFile(file))))
      const env = { DATABASE_URL: file, SECRET_KEY: SECRET, ENCRYPTION_KEY: MASTER, OPENROUTER_API_URL: server.url }
      const byKey = yield* Effect.promise(() => orw(["sync", "--key", "off"], env))
      expect(byKey.code).toBe(1)
      expect(byKey.stderr.trim()).toBe("orw: API key is inactive: activate it to sync")
      expect(sim.count("/key")).toBe(0)
      const byUser = yield* Effect.promise(() => orw(["sync", "--user", "off@example.com", "--json"], env))
      expect(byUser.code).toBe(0)
      expect(jsonLines(byUser.stdout).map((r) => [r.key_id, r.outcome, r.recorded])).toEqual([
        ["off", "skipped", []],
        ["on", "ok", ["KeyStatusRecorded"]]
      ])
      expect(sim.count("/key")).toBe(1)
    })
  )

  it.scopedLive("orw reconcile records and prints a discrepancy once; orw discrepancies lists it", () =>
    Effect.gen(function* () {
      const sim = new Simulator()
      const server = yield* sim.serve()
      const plaintext = sim.addKey({ usage: { total: 12.5 } })
      const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-reconcile-")), "app.db")
      yield* Effect.gen(function* () {
        const vault = yield* makeKeyVault(Redacted.make(MASTER))
        const dispatcher = yield* Dispatcher
        yield* dispatcher.dispatch(register("u1", "rec@example.com"), { metadata: testMetadata() })
        const sealed = yield* vault.seal("good", "u1", Redacted.make(plaintext))
        yield* dispatcher.dispatch(addKey("good", "u1", { ciphertext: sealed.ciphertext }), {
          metadata: testMetadata(),
          inTransaction: vault.storeInTransaction(sealed.vaultRow)
        })
      }).pipe(Effect.provide(Layer.fresh(Core.layerFile(file))))
      const env = { DATABASE_URL: file, SECRET_KEY: SECRET, ENCRYPTION_KEY: MASTER, OPENROUTER_API_URL: server.url }
      // The baseline ($12.50), then $0.25 of growth: recorded as unattributed, in agreement with /key.
      expect((yield* Effect.promise(() => orw(["sync", "--key", "good"], env))).code).toBe(0)
      sim.addUsage(plaintext, 0.25)
      const agree = yield* Effect.promise(() => orw(["reconcile", "--key", "good"], env))
      expect([agree.code, agree.stdout.trim()]).toEqual([0, "good (key good): no new discrepancy with OpenRouter"])
      // OpenRouter now says $1 less of all-time usage than we recorded.
      sim.key(plaintext).usage.total -= 1_000_000_000
      const found = yield* Effect.promise(() => orw(["reconcile", "--key", "good"], env))
      expect(found.code).toBe(0)
      const [line, summary] = found.stdout.trim().split("\n")
      expect(line).toMatch(
        /^\S+Z {2}good \(key good\) {2}all-time total: recorded \$12\.750000, OpenRouter \$11\.750000 \(-1\.000000\)$/
      )
      expect(summary).toBe("good (key good): 1 discrepancies; 0 row(s) recorded again")
      const again = yield* Effect.promise(() => orw(["reconcile", "--json"], env))
      expect(jsonLines(again.stdout).map((r) => [r.key_id, r.outcome, r.discrepancies])).toEqual([["good", "ok", []]])
      const listed = yield* Effect.promise(() => orw(["discrepancies", "--json"], env))
      expect(listed.code).toBe(0)
      expect(jsonLines(listed.stdout).map((d) => [d.key_id, d.scope, d.recorded, d.upstream])).toEqual([
        ["good", "all-time", 12.75, 11.75]
      ])
      expect(found.stdout + listed.stdout).not.toContain(plaintext)
    })
  )
})
