import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Run } from "./fixture.js"
import { lines, openSqlite, orw, orwAll, ROOT } from "./fixture.js"
import type { Fixture } from "./seed.js"
import { makeFixture } from "./seed.js"

const MISSING = `orw-missing-${process.pid}/app.db`

let fixture: Fixture
let runs: Record<"help" | "missing" | "limit" | "until" | "since" | "impossible" | "user" | "garbage", Run>

beforeAll(async () => {
  fixture = await makeFixture()
  const garbage = NodePath.join(fixture.dir, "garbage.db")
  NodeFs.writeFileSync(garbage, "this is not a SQLite database, only some text that is long enough\n".repeat(20))
  const env = { DATABASE_URL: fixture.file }
  runs = {
    ...(await orwAll(
      {
        help: ["--help"],
        limit: ["events", "list", "--limit", "many"],
        until: ["replay", "--json"],
        since: ["events", "list", "--since", "yesterday"],
        // Date.parse would read it as March 3.
        impossible: ["events", "list", "--until", "2026-02-31"],
        user: ["events", "list", "--user", "nobody@example.com"]
      },
      env
    )),
    // A relative sqlite:/// URL resolves against the working directory (the repo root).
    missing: await orw(["events", "list"], { DATABASE_URL: `sqlite:///./${MISSING}` }),
    garbage: await orw(["events", "list"], { DATABASE_URL: garbage })
  }
})

afterAll(() => NodeFs.rmSync(fixture.dir, { recursive: true, force: true }))

/** Exit code non-zero, nothing on stdout, one `orw:` line on stderr that matches. */
const failsWithOneLine = (run: Run, pattern: RegExp) => {
  expect(run.code).not.toBe(0)
  expect(run.stdout).toBe("")
  const errors = lines(run.stderr)
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(/^orw: /)
  expect(errors[0]).toMatch(pattern)
}

describe("orw errors", () => {
  it("--help describes every command", () => {
    expect(runs.help.code).toBe(0)
    for (const usage of ["events list", "replay --until", "projections status", "projections rebuild"]) {
      expect(runs.help.stdout).toContain(usage)
    }
  })

  it("a missing database file is an error, and is not created", () => {
    failsWithOneLine(runs.missing, new RegExp(`Database file not found: ${NodePath.join(ROOT, MISSING)}`))
    expect(NodeFs.existsSync(NodePath.join(ROOT, NodePath.dirname(MISSING)))).toBe(false)
  })

  it("bad arguments are errors", () => {
    failsWithOneLine(runs.limit, /'many' is not a integer/)
    failsWithOneLine(runs.until, /Expected to find option: '--until'/)
    failsWithOneLine(runs.since, /--since must be an ISO time .* got "yesterday"/)
    failsWithOneLine(runs.impossible, /--until must be an ISO time .* got "2026-02-31"/)
    failsWithOneLine(runs.user, /No user was ever registered with email nobody@example.com/)
  })

  it("a file that is not a database is an error", () => {
    failsWithOneLine(runs.garbage, /Cannot open database .*garbage\.db: file is not a database/)
  })

  it("a database locked by another process is an error once the busy timeout runs out", async () => {
    const db = openSqlite(fixture.file)
    try {
      db.pragma("locking_mode = EXCLUSIVE")
      db.exec("BEGIN EXCLUSIVE")
      failsWithOneLine(await orw(["events", "list"], { DATABASE_URL: fixture.file }), /database is locked/)
    } finally {
      db.exec("ROLLBACK")
      db.close()
    }
  })
})
