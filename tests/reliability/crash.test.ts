import { spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import * as Core from "@orw/server/Core"
import { EventStore } from "@orw/server/EventStore"
import { Projector } from "@orw/server/Projector"
import { Effect } from "effect"

const root = NodePath.resolve(import.meta.dirname, "../..")

/**
 * Runs the writer until it has acknowledged `acks` appends, runs `during` while it keeps
 * writing, then kills it with SIGKILL mid-stream.
 */
const runAndKill = (file: string, acks: number, during: () => Promise<void> = async () => {}) =>
  new Promise<Array<number>>((resolve, reject) => {
    // `node --import tsx` keeps the writer in this one process: SIGKILL must hit the process that writes.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", NodePath.join(import.meta.dirname, "support/writer.ts"), file],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    const acked: Array<number> = []
    let buffer = ""
    let stderr = ""
    child.stderr.on("data", (chunk) => {
      stderr += chunk
    })
    child.stdout.on("data", (chunk) => {
      buffer += chunk
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        if (!line.startsWith("ack ")) continue
        const [, a, b] = line.split(" ")
        acked.push(Number(a), Number(b))
        if (acked.length === acks * 2) {
          during().then(
            () => child.kill("SIGKILL"),
            (error) => {
              child.kill("SIGKILL")
              reject(error)
            }
          )
        }
      }
    })
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve(acked) : reject(new Error(`writer exited without being killed: ${stderr}`))
    )
  })

it.live(
  "every acknowledged append survives kill -9; the log and read tables stay consistent",
  () =>
    Effect.gen(function* () {
      const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-crash-")), "app.db")
      const acked = yield* Effect.promise(() => runAndKill(file, 40))
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        const events = yield* store.readAll(0, 100_000)
        const positions = new Set(events.map((e) => e.position))
        for (const position of acked) expect(positions.has(position)).toBe(true)
        // Positions are gapless and every stream's versions run 1..n: no torn transaction.
        expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1))
        const versions = new Map<string, Array<number>>()
        for (const e of events) versions.set(e.streamId, [...(versions.get(e.streamId) ?? []), e.streamVersion])
        for (const vs of versions.values()) expect(vs).toEqual(vs.map((_, i) => i + 1))
        // Whole commands: a registered user has both its events, an added key its KeyAdded and KeyAttached.
        const count = (type: string) => events.filter((e) => e.type === type).length
        expect(count("EmailClaimed")).toBe(count("UserRegistered"))
        expect(count("KeyAdded")).toBe(count("KeyAttached"))
        // Inline projections committed with the events.
        const sql = yield* SqlClient.SqlClient
        const keys = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM api_keys`
        expect(keys[0]?.n).toBe(count("KeyAdded"))
        const status = yield* Effect.flatMap(Projector, (p) => p.status)
        expect(status.every((s) => s.lag === 0)).toBe(true)
      }).pipe(Effect.provide(Core.layerFile(file)))
    }),
  60_000
)

it.live(
  "other processes open, catch up and rebuild projections while a writer keeps appending",
  () =>
    Effect.gen(function* () {
      const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-concurrent-")), "app.db")
      const snapshot = Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.all([sql`SELECT * FROM users ORDER BY id`, sql`SELECT * FROM api_keys ORDER BY id`])
      )
      yield* Effect.promise(() =>
        runAndKill(file, 20, () =>
          Effect.runPromise(
            Effect.gen(function* () {
              for (let i = 0; i < 3; i++) {
                // Opening the core runs the start-up catch-up against a live writer.
                yield* Effect.provide(Effect.void, Core.layerFile(file))
                yield* Effect.flatMap(Projector, (p) => p.rebuild("users")).pipe(Effect.provide(Core.layerFile(file)))
              }
            })
          )
        )
      )
      yield* Effect.gen(function* () {
        const events = yield* Effect.flatMap(EventStore, (s) => s.readAll(0, 100_000))
        const incremental = yield* snapshot
        expect(incremental[0].length).toBe(events.filter((e) => e.type === "UserRegistered").length)
        yield* Effect.flatMap(Projector, (p) => p.rebuild())
        expect(yield* snapshot).toEqual(incremental)
      }).pipe(Effect.provide(Core.layerFile(file)))
    }),
  60_000
)
