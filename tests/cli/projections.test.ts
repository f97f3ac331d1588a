import * as NodeFs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonLines, lines, openSqlite, orw } from "./fixture.js"
import type { Fixture } from "./seed.js"
import { makeFixture } from "./seed.js"

const TABLES = [
  "users",
  "api_keys",
  "usage_stats",
  "api_tokens",
  "budgets",
  "alerts",
  "webhooks",
  "usage_discrepancies"
]

let fixture: Fixture
let env: Record<string, string>

beforeAll(async () => {
  fixture = await makeFixture()
  env = { DATABASE_URL: fixture.file }
})

afterAll(() => NodeFs.rmSync(fixture.dir, { recursive: true, force: true }))

/** Every row of every read table, in a stable order, as JSON. */
const readTables = () => {
  const db = openSqlite(fixture.file)
  try {
    return Object.fromEntries(
      TABLES.map((table) => [
        table,
        db
          .prepare(`SELECT * FROM ${table}`)
          .all()
          .map((row) => JSON.stringify(row))
          .sort()
      ])
    )
  } finally {
    db.close()
  }
}

const tamper = () => {
  const db = openSqlite(fixture.file)
  try {
    db.prepare("UPDATE api_keys SET name = 'tampered'").run()
    db.prepare("UPDATE projection_checkpoints SET position = ? WHERE name = 'users'").run(fixture.head - 3)
  } finally {
    db.close()
  }
}

describe("orw projections", () => {
  it("status shows the lag as stored; rebuild restores the tables row for row; status then shows lag 0", async () => {
    const before = readTables()
    expect(Object.values(before).map((rows) => rows.length)).toEqual([1, 1, 3, 1, 0, 0, 0, 0])
    tamper()

    const status = await orw(["projections", "status"], env)
    expect(status.code).toBe(0)
    const [header, ...rows] = lines(status.stdout)
    expect(header?.split(/\s{2,}/)).toEqual(["NAME", "CODE VERSION", "STORED VERSION", "CHECKPOINT", "HEAD", "LAG"])
    const head = String(fixture.head)
    expect(rows.map((row) => row.split(/\s+/))).toEqual([
      ["users", "1", "1", String(fixture.head - 3), head, "3"],
      // api_keys is at version 2 since issue 13 (a rename keeps a key invalid).
      ["api_keys", "2", "2", head, head, "0"],
      // usage_stats is at version 2 since issue 14 (covering indexes for the SQL-side sums).
      ["usage_stats", "2", "2", head, head, "0"],
      ["api_tokens", "1", "1", head, head, "0"],
      ["budgets", "1", "1", head, head, "0"],
      ["alerts", "1", "1", head, head, "0"],
      ["webhooks", "1", "1", head, head, "0"],
      ["usage_discrepancies", "1", "1", head, head, "0"]
    ])

    const rebuild = await orw(["projections", "rebuild"], env)
    expect(rebuild.stderr).toBe("")
    expect(rebuild.code).toBe(0)
    expect(lines(rebuild.stdout)).toEqual(TABLES.map((table) => `Rebuilt ${table} up to position ${fixture.head}`))
    expect(readTables()).toEqual(before)

    const after = await orw(["projections", "status", "--json"], env)
    expect(after.code).toBe(0)
    const version = (name: string) => (name === "api_keys" || name === "usage_stats" ? 2 : 1)
    expect(jsonLines(after.stdout)).toEqual(
      TABLES.map((name) => ({
        name,
        code_version: version(name),
        stored_version: version(name),
        position: fixture.head,
        head: fixture.head,
        lag: 0
      }))
    )
  })

  it("rebuild of an unknown projection fails with one line and changes nothing", async () => {
    const before = readTables()
    const run = await orw(["projections", "rebuild", "nope"], env)
    expect(run.code).not.toBe(0)
    expect(run.stdout).toBe("")
    expect(lines(run.stderr)).toEqual([
      'orw: Unknown projection "nope" (known: users, api_keys, usage_stats, api_tokens, budgets, alerts, webhooks, usage_discrepancies)'
    ])
    expect(readTables()).toEqual(before)
  })
})
