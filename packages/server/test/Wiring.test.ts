import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, FiberRef, Layer, LogLevel, Redacted } from "effect"
import { Passwords } from "../src/Auth/Passwords.js"
import { AppConfig } from "../src/Config.js"
import * as Core from "../src/Core.js"
import { EventStore } from "../src/EventStore.js"
import { appLayer, listen } from "../src/Http/Server.js"
import { Logging } from "../src/Launch.js"
import { OpenRouterClient } from "../src/OpenRouter/Client.js"
import { Simulator } from "../src/OpenRouter/Simulator.js"
import { SyncSettings } from "../src/OpenRouter/SyncSettings.js"
import * as Settings from "../src/Settings.js"
import * as Sync from "../src/Sync.js"

const tempDir = () => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-wiring-"))

/** The server's settings and compositions, from `env` alone (no process.env, no .env of the repo). */
const configured = (env: Record<string, string>, cwd: string) =>
  Sync.layer.pipe(Layer.provideMerge(Core.layer), Layer.provideMerge(Settings.layer({ env, cwd })))

describe("one wiring", () => {
  it.scoped("each setting, read once by Settings.layer, reaches every consumer", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const { simulator, url } = yield* Simulator.scoped()
      const key = simulator.addKey({ name: "app" })
      const env = { DATA_DIR: dir, SYNC_INTERVAL_MINUTES: "7", OPENROUTER_API_URL: url }
      yield* Effect.gen(function* () {
        // DATA_DIR: AppConfig's data folder, the core's database file and the development secrets.
        expect((yield* AppConfig).dataDir).toBe(dir)
        expect(NodeFs.existsSync(NodePath.join(dir, "app.db"))).toBe(true)
        expect(NodeFs.existsSync(NodePath.join(dir, "secrets.json"))).toBe(true)
        expect(yield* Effect.flatMap(EventStore, (store) => store.head)).toBe(0)
        // SYNC_INTERVAL_MINUTES: AppConfig's number and the sync's pacing.
        expect((yield* AppConfig).syncIntervalMinutes).toBe(7)
        expect(Duration.toMinutes((yield* SyncSettings).interval)).toBe(7)
        // OPENROUTER_API_URL: the client of the sync calls the simulator, not openrouter.ai.
        const info = yield* Effect.flatMap(OpenRouterClient, (client) => client.getKey(Redacted.make(key)))
        expect(info.label).toBeTypeOf("string")
        expect(simulator.count("/key")).toBe(1)
      }).pipe(Effect.provide(configured(env, dir)))
    })
  )

  it.effect("DEBUG=true lowers the server's log level to Debug; a lower LOG_LEVEL stays", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const level = (env: Record<string, string>) =>
        FiberRef.get(FiberRef.currentMinimumLogLevel).pipe(
          Effect.provide(Logging.pipe(Layer.provide(Settings.layer({ env: { DATA_DIR: dir, ...env }, cwd: dir }))))
        )
      expect(yield* level({})).toBe(LogLevel.Info)
      expect(yield* level({ DEBUG: "true" })).toBe(LogLevel.Debug)
      expect(yield* level({ DEBUG: "true", LOG_LEVEL: "ERROR" })).toBe(LogLevel.Debug)
      expect(yield* level({ DEBUG: "true", LOG_LEVEL: "TRACE" })).toBe(LogLevel.Trace)
      expect(yield* level({ DEBUG: "false", LOG_LEVEL: "ERROR" })).toBe(LogLevel.Error)
    })
  )

  it.scoped("the server's composition reads every variable once", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const env = new Map([
        ["DATA_DIR", dir],
        ["SYNC_INTERVAL_MINUTES", "7"],
        ["OPENROUTER_API_URL", "http://127.0.0.1:9/api/v1"]
      ])
      const inner = ConfigProvider.fromMap(env, { pathDelim: "_" }).flattened
      const reads = new Map<string, number>()
      const counting = ConfigProvider.fromFlat(
        ConfigProvider.makeFlat({
          load: (path, primitive, split) => {
            const name = path.join("_")
            reads.set(name, (reads.get(name) ?? 0) + 1)
            return inner.load(path, primitive, split)
          },
          enumerateChildren: (path) => inner.enumerateChildren(path),
          patch: inner.patch
        })
      )
      const server = appLayer({ server: listen({ host: "127.0.0.1", port: 0 }), passwords: Passwords.Test }).pipe(
        Layer.provide(Logging),
        Layer.provide(SyncSettings.Default),
        Layer.provide(AppConfig.Default),
        Layer.provide(Layer.setConfigProvider(counting))
      )
      yield* Layer.build(server)
      for (const name of ["DATA_DIR", "DATABASE_URL", "OPENROUTER_API_URL", "SYNC_INTERVAL_MINUTES", "DEBUG"]) {
        expect(reads.get(name), name).toBe(1)
      }
      expect([...reads].filter(([, n]) => n !== 1)).toEqual([])
    })
  )

  it("a composition that forgets a required service does not compile", () => {
    const app = appLayer({ server: listen({ host: "127.0.0.1", port: 0 }), passwords: Passwords.Test }).pipe(
      Layer.provide(AppConfig.layerTest())
    )
    // @ts-expect-error SyncSettings has no default any more: the composition must provide it.
    const withoutSyncSettings: Layer.Layer<never, unknown, never> = app
    const complete: Layer.Layer<never, unknown, never> = app.pipe(Layer.provide(SyncSettings.Test()))
    // @ts-expect-error EventSchemas too: a store built without its dependencies asks for them.
    const withoutSchemas: Layer.Layer<EventStore, never, SqlClient.SqlClient> = EventStore.DefaultWithoutDependencies
    expect([withoutSyncSettings, complete, withoutSchemas]).toHaveLength(3)
  })
})
