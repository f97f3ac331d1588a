import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { expect, it } from "@effect/vitest"
import * as Core from "@orw/server/Core"
import { makeKeyVault } from "@orw/server/Crypto/KeyVault"
import { Dispatcher } from "@orw/server/Dispatcher"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { Effect, Layer, Redacted } from "effect"
import { addKey, register, testMetadata } from "../../packages/server/test/support/Fixtures.js"
import { jsonLines, lines, orw } from "./fixture.js"

const MASTER = "e".repeat(64)
const ESC = String.fromCharCode(27)

it.scopedLive("orw sync --json: stdout is JSON lines only, log lines (a warning, debug lines) go to stderr", () =>
  Effect.gen(function* () {
    const sim = new Simulator()
    const server = yield* sim.serve()
    const key = sim.addKey({ limit: 10, usage: { total: 1 } })
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-out-"))
    const file = NodePath.join(dir, "app.db")
    yield* Effect.gen(function* () {
      const vault = yield* makeKeyVault(Redacted.make(MASTER))
      const dispatcher = yield* Dispatcher
      yield* dispatcher.dispatch(register("u1", "out@example.com"), { metadata: testMetadata() })
      const sealed = yield* vault.seal("k1", "u1", Redacted.make(key))
      yield* dispatcher.dispatch(addKey("k1", "u1", { ciphertext: sealed.ciphertext }), {
        metadata: testMetadata(),
        inTransaction: vault.storeInTransaction(sealed.vaultRow)
      })
    }).pipe(Effect.provide(Layer.fresh(Core.layerFile(file))))
    // No SECRET_KEY: a development secret is generated with a warning, which must not reach stdout.
    const env = { DATABASE_URL: file, ENCRYPTION_KEY: MASTER, OPENROUTER_API_URL: server.url, LOG_LEVEL: "DEBUG" }
    const run = yield* Effect.promise(() => orw(["sync", "--json"], env))
    expect(run.code).toBe(0)
    expect(jsonLines(run.stdout).map((r) => [r.key_id, r.outcome])).toEqual([["k1", "ok"]])
    expect(run.stderr).toMatch(/level=WARN/)
    expect(run.stdout + run.stderr).not.toContain(key)
  })
)

it.live("orw --help into a pipe has no colour codes", () =>
  Effect.gen(function* () {
    const run = yield* Effect.promise(() => orw(["--help"], { NO_COLOR: "" }))
    expect(run.code).toBe(0)
    expect(lines(run.stdout).length).toBeGreaterThan(5)
    expect(run.stdout).not.toContain(ESC)
  })
)
