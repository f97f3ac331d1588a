import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { KeyVault } from "@orw/server/Crypto/KeyVault"
import { Database } from "@orw/server/DatabaseUrl"
import { EventStore } from "@orw/server/EventStore"
import { allProjections } from "@orw/server/Projections/index"
import { Projector } from "@orw/server/Projector"
import { migrations } from "@orw/server/Sql"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openSqlite } from "../cli/fixture.js"
import { client } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"

/*
 * tests/fixtures/upgrade-v1.sql is a database made by the first released schema (c76269b), by that commit's
 * own code: migrations 0001–0003, projections at their v1 tables and checkpoints, 24 events in its
 * JSON shapes (schema_version 1). Rebuild it with `node scripts/make-upgrade-fixture.mjs`; its fake
 * inputs (ids, password, API token, master key) are in upgrade-v1.json.
 */
const fixtures = NodePath.resolve(import.meta.dirname, "../fixtures")
const F = JSON.parse(NodeFs.readFileSync(NodePath.join(fixtures, "upgrade-v1.json"), "utf8"))
const FIXTURE_EVENTS = 24

const encryptionKey = Redacted.make(F.encryptionKey as string)
const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-upgrade-"))
const file = NodePath.join(dir, "app.db")
let upgraded: TestServer
let fresh: TestServer

const query = <A extends object>(server: TestServer, text: string) =>
  server.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text)))

/** Every decoded event (upcast to the current shapes), without what differs by construction (position is kept). */
const decodedEvents = (server: TestServer) =>
  server.run(
    Effect.flatMap(EventStore, (store) => store.readAll(0, 10_000)).pipe(
      Effect.map((events) =>
        events.map((e) => ({
          position: e.position,
          streamId: e.streamId,
          streamVersion: e.streamVersion,
          type: e.type,
          metadata: e.metadata,
          event: e.event
        }))
      )
    )
  )

beforeAll(async () => {
  // The fixture is kept as SQL text (no database file in git); this is the file the first release left.
  const made = openSqlite(file)
  made.exec(NodeFs.readFileSync(NodePath.join(fixtures, "upgrade-v1.sql"), "utf8"))
  made.close()
  // The copy is the old schema, so what the test sees below is the upgrade's doing.
  const before = openSqlite(file)
  const tables = before.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
  const applied = before.prepare("SELECT MAX(migration_id) AS id FROM effect_sql_migrations").all()[0]
  const v1 = before.prepare("SELECT DISTINCT version FROM projection_checkpoints").all() as Array<{ version: number }>
  before.close()
  expect(tables.map((t) => t.name)).not.toContain("streams")
  expect(applied).toEqual({ id: 3 })
  expect(v1).toEqual([{ version: 1 }])
  upgraded = await startServer({ database: Database.Sqlite({ filename: file }), dataDir: dir, encryptionKey })

  // A fresh database of the current schema, fed the same events through the current EventStore
  // (encoded in today's shapes) and inline projections, with the vault rows they need.
  fresh = await startServer({ encryptionKey })
  const events = await upgraded.run(Effect.flatMap(EventStore, (store) => store.readAll(0, 10_000)))
  const vault = await query<Record<string, unknown>>(upgraded, "SELECT * FROM key_vault ORDER BY key_id")
  await fresh.run(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const store = yield* EventStore
      const projector = yield* Projector
      for (const row of vault) yield* sql`INSERT INTO key_vault ${sql.insert(row)}`
      for (const e of events) {
        yield* sql.withTransaction(
          projector.projectInline(
            store.append(
              [{ streamId: e.streamId, expectedVersion: e.streamVersion - 1, events: [e.event] }],
              e.metadata
            )
          )
        )
      }
    }).pipe(Effect.orDie)
  )
})

afterAll(async () => {
  await upgraded?.close()
  await fresh?.close()
  NodeFs.rmSync(dir, { recursive: true, force: true })
})

describe("a database of the first released schema (c76269b)", () => {
  it("is migrated on start: every migration this code has, the streams table backfilled from the log", async () => {
    const applied = await query<{ migration_id: number }>(
      upgraded,
      "SELECT migration_id FROM effect_sql_migrations ORDER BY migration_id"
    )
    const known = Object.keys(migrations).map((name) => Number.parseInt(name, 10))
    // Named here too, so that dropping one from the code's list fails this test as well.
    expect(known).toEqual(expect.arrayContaining([1, 2, 3, 4, 5, 6]))
    expect(applied.map((r) => r.migration_id)).toEqual(known)

    const streams = await query<{ stream_id: string; version: number }>(
      upgraded,
      "SELECT stream_id, version FROM streams ORDER BY stream_id"
    )
    const fromLog = await query<{ stream_id: string; version: number }>(
      upgraded,
      "SELECT stream_id, MAX(stream_version) AS version FROM events GROUP BY stream_id ORDER BY stream_id"
    )
    expect(streams.length).toBe(12)
    expect(streams).toEqual(fromLog)
    // The old rows are kept as written (schema_version 1); the store upcasts them when it reads.
    const rows = await query<{ n: number; v: number }>(
      upgraded,
      "SELECT COUNT(*) AS n, MAX(schema_version) AS v FROM events"
    )
    expect(rows[0]).toEqual({ n: FIXTURE_EVENTS, v: 1 })
  })

  it("has every projection rebuilt to its current version and caught up with the log", async () => {
    const checkpoints = await query<{ name: string; version: number; position: number }>(
      upgraded,
      "SELECT name, version, position FROM projection_checkpoints ORDER BY name"
    )
    const expected = allProjections
      .map((p) => ({ name: p.name, version: p.version, position: FIXTURE_EVENTS }))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
    expect(checkpoints).toEqual(expected)
    // At least one projection changed since c76269b, so this start really rebuilt something.
    expect(upgraded.logs.some((line) => line.includes("Rebuilding projection"))).toBe(true)
  })

  it("holds the same log as a fresh database fed its events, and the same projection tables", async () => {
    expect(await decodedEvents(upgraded)).toEqual(await decodedEvents(fresh))
    for (const projection of allProjections) {
      const text = `SELECT * FROM ${projection.table} ORDER BY 1, 2`
      const [a, b] = [await query(upgraded, text), await query(fresh, text)]
      expect({ table: projection.table, rows: a }).toEqual({ table: projection.table, rows: b })
    }
    const users = await query(upgraded, "SELECT email FROM users ORDER BY email")
    expect(users).toEqual([{ email: F.email }, { email: F.otherEmail }])
  })

  it("answers the API byte for byte as the fresh database does", async () => {
    const answers = async (server: TestServer) => {
      const api = client(server.url)
      const login = await api.request("POST", "/api/auth/login", { json: { email: F.email, password: F.password } })
      expect(login.status, login.text).toBe(200)
      const jwt = login.body.access_token as string
      const out: Record<string, { status: number; text: string }> = {}
      for (const path of ["/api/users/me", "/api/keys", "/api/tokens", "/api/budgets", "/api/alerts"]) {
        const r = await api.request("GET", path, { bearer: jwt })
        out[path] = { status: r.status, text: r.text }
      }
      for (const path of ["/api/v1/stats", "/api/v1/usage", "/api/v1/keys"]) {
        const r = await api.request("GET", path, { bearer: F.token })
        out[`${path} (token)`] = { status: r.status, text: r.text }
      }
      const revoked = await api.request("GET", "/api/v1/stats", { bearer: F.revokedToken })
      out["/api/v1/stats (revoked token)"] = { status: revoked.status, text: "" }
      return out
    }
    const [a, b] = [await answers(upgraded), await answers(fresh)]
    expect(a).toEqual(b)
    expect(a["/api/keys"]?.status).toBe(200)
    expect(a["/api/v1/stats (token)"]?.status).toBe(200)
    expect(a["/api/v1/stats (revoked token)"]?.status).toBe(401)
    const keys = JSON.parse(a["/api/keys"]?.text ?? "null")
    expect(JSON.stringify(keys)).toContain("Staging (old)")
    expect(JSON.stringify(keys)).toContain("Production")
    expect(JSON.stringify(keys)).not.toContain("Other's")
    // The usage the first release recorded is counted: 0.75 + 2.25 + 0.6 + 0.4 (key A) + 1 (key B).
    // (the second absolute figure of gpt-4o-mini on 10-31 replaced the first; the increment added)
    expect(JSON.parse(a["/api/v1/stats (token)"]?.text ?? "null").summary).toMatchObject({
      total_requests: 60,
      total_cost: 5
    })
  })

  it("opens a key the first release sealed, with the same master key", async () => {
    const { events } = await upgraded.run(Effect.flatMap(EventStore, (store) => store.readStream(`key-${F.keyA}`)))
    const added = events.map((e) => e.event).find((e) => e._tag === "KeyAdded")
    if (added?._tag !== "KeyAdded") throw new Error("no KeyAdded in the fixture")
    const plaintext = await upgraded.run(
      Effect.flatMap(KeyVault, (vault) => vault.open(F.keyA, F.userId, added.ciphertext))
    )
    expect(Redacted.value(plaintext)).toBe(F.keyAPlaintext)
  })
})
