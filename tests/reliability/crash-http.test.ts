import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import * as Core from "@orw/server/Core"
import { EventStore } from "@orw/server/EventStore"
import { Projector } from "@orw/server/Projector"
import { Effect, Layer } from "effect"
import { afterAll, expect, it } from "vitest"
import { orw } from "../cli/fixture.js"
import { client } from "../http/support/client.js"
import { freePort, type ServerProcess, spawnServer } from "./support/spawn.js"
import { SOAK } from "./support/state.js"

/*
 * SIGKILL the real server (packages/server/src/main.ts) while 1,000 commands over HTTP are in flight, several
 * times: during plain load, while `orw projections rebuild` runs on the same file (killed too), and during
 * start-up (while it rebuilds its projections). Afterwards every acknowledged command is in the log, every
 * stream's versions run 1..n, and the read tables equal a rebuild from the log.
 */

const ROUNDS = SOAK ? 6 : 2
const CONCURRENT = 1_000
const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-crash-http-"))
const file = NodePath.join(dir, "app.db")
const env = { DATA_DIR: dir, SECRET_KEY: "s".repeat(64), ENCRYPTION_KEY: "e".repeat(64) }
const running: Array<ServerProcess> = []
afterAll(() => {
  for (const s of running) if (s.child.exitCode === null) s.child.kill("SIGKILL")
  NodeFs.rmSync(dir, { recursive: true, force: true })
})

const start = async () => {
  const server = spawnServer({ ...env, PORT: String(await freePort()) })
  running.push(server)
  return server
}

const TABLES = ["users", "api_keys", "api_tokens", "usage_stats"]
const snapshot = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.all(TABLES.map((t) => sql.unsafe(`SELECT * FROM ${t} ORDER BY 1`)))
)

/** Opens the file as the next start would, and checks everything the crash could have broken. */
const verify = (acknowledged: ReadonlyArray<string>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const events = yield* Effect.flatMap(EventStore, (s) => s.readAll(0, 1_000_000))
      const tokenIds = new Set(
        (yield* sql<{ stream_id: string }>`SELECT stream_id FROM events WHERE type = 'TokenIssued'`).map(
          (r) => r.stream_id
        )
      )
      const missing = acknowledged.filter((id) => ![...tokenIds].some((s) => s.endsWith(id)))
      expect(missing).toEqual([])
      expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1))
      const versions = new Map<string, Array<number>>()
      for (const e of events) versions.set(e.streamId, [...(versions.get(e.streamId) ?? []), e.streamVersion])
      for (const vs of versions.values()) expect(vs).toEqual(vs.map((_, i) => i + 1))
      const leftovers = yield* sql`SELECT name FROM sqlite_master WHERE name LIKE '%__rebuild'`
      expect(leftovers).toEqual([])
      const incremental = yield* snapshot
      yield* Effect.flatMap(Projector, (p) => p.rebuild())
      expect(yield* snapshot).toEqual(incremental)
      return events.length
    }).pipe(Effect.provide(Core.layerFile(file).pipe(Layer.fresh)))
  )

/** 1,000 token creations at once; kills the server with SIGKILL once `killAfter` were acknowledged. */
const loadAndKill = async (
  server: ServerProcess,
  jwt: string,
  base: string,
  killAfter: number,
  during?: () => void
) => {
  const api = client(base)
  const acknowledged: Array<string> = []
  let killed = false
  const kill = () => {
    if (killed) return
    killed = true
    server.child.kill("SIGKILL")
  }
  await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      try {
        const r = await api.request("POST", "/api/tokens", { bearer: jwt, json: { name: `crash-${i}` } })
        if (r.status === 201 && !killed) {
          acknowledged.push(r.body.id as string)
          if (acknowledged.length === Math.floor(killAfter / 2)) during?.()
          if (acknowledged.length >= killAfter) kill()
        }
      } catch {
        // The connection died with the server: not acknowledged.
      }
    })
  )
  kill()
  await server.exited
  return acknowledged
}

it(
  `${ROUNDS} rounds of SIGKILL under ${CONCURRENT} concurrent commands (one during an orw rebuild), then one during start-up`,
  async () => {
    const acknowledged: Array<string> = []
    let credentials: { email: string; password: string } | undefined
    for (let round = 0; round < ROUNDS; round++) {
      const server = await start()
      const port = await server.listening
      const base = `http://127.0.0.1:${port}`
      const api = client(base)
      if (credentials === undefined) {
        const u = await api.user("crash")
        credentials = { email: u.email, password: u.password }
      }
      const jwt = (await api.request("POST", "/api/auth/login", { json: credentials })).body.access_token as string
      // The second round: a rebuild in another process on the same file, killed with the server.
      let rebuild: Promise<unknown> | undefined
      const during =
        round === 1
          ? () => {
              rebuild = orw(["projections", "rebuild"], { DATABASE_URL: `sqlite:///${file}`, DATA_DIR: dir })
            }
          : undefined
      acknowledged.push(...(await loadAndKill(server, jwt, base, 300 + round * 100, during)))
      await rebuild
      const events = await verify(acknowledged)
      expect(events).toBeGreaterThan(acknowledged.length)
      console.info(
        `crash round ${round + 1}: ${acknowledged.length} acknowledged so far, ${events} events, all present`
      )
    }
    // During start-up: checkpoints gone, so the server rebuilds every projection as it starts; kill it then.
    await Effect.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM projection_checkpoints`).pipe(
        Effect.provide(Core.layerFile(file).pipe(Layer.fresh))
      )
    )
    const starting = await start()
    await new Promise((resolve) => starting.child.stdout?.once("data", resolve))
    starting.child.kill("SIGKILL")
    await starting.exited
    expect(await verify(acknowledged)).toBeGreaterThan(acknowledged.length)
    // And a normal start afterwards serves every acknowledged token.
    const after = await start()
    const base = `http://127.0.0.1:${await after.listening}`
    const jwt = (await client(base).request("POST", "/api/auth/login", { json: credentials })).body
      .access_token as string
    const list = await client(base).request("GET", "/api/tokens", { bearer: jwt })
    const listed = new Set((list.body.items as Array<{ id: string }>).map((t) => t.id))
    expect(acknowledged.filter((id) => !listed.has(id))).toEqual([])
    after.child.kill("SIGKILL")
    await after.exited
  },
  SOAK ? 900_000 : 240_000
)
