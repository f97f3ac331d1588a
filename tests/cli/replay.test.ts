import * as NodeFs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Run } from "./fixture.js"
import { lines, orwAll } from "./fixture.js"
import type { Fixture } from "./seed.js"
import { makeFixture } from "./seed.js"

let fixture: Fixture
let runs: Record<"before" | "head" | "text", Run>

beforeAll(async () => {
  fixture = await makeFixture()
  runs = await orwAll(
    {
      before: ["replay", "--until", String(fixture.beforeChanges), "--json"],
      // A time bound: the last events of the log were recorded at 15:00 on day 3.
      head: ["replay", "--until", "2026-03-03T15:00:00Z", "--json"],
      // Position 13 holds the unattributed usage of 03-02; its per-model row (14) comes later.
      text: ["replay", "--until", "13", "--user", "ALICE@example.com"]
    },
    { DATABASE_URL: fixture.file }
  )
})

afterAll(() => NodeFs.rmSync(fixture.dir, { recursive: true, force: true }))

interface Report {
  readonly position: number
  readonly users: ReadonlyArray<{
    readonly email: string
    readonly status: string
    readonly keys: ReadonlyArray<Record<string, unknown>>
    readonly tokens: ReadonlyArray<Record<string, unknown>>
  }>
}

const report = (run: Run): Report => {
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  expect(lines(run.stdout)).toHaveLength(1)
  return JSON.parse(run.stdout) as Report
}

const mainKeyUsage = { requests: 6, tokens_input: 100, tokens_output: 50, cost: 0.65 }

describe("orw replay", () => {
  it("at an earlier position shows the state of then: old name, key not yet deleted, token active", () => {
    const r = report(runs.before)
    expect(r.position).toBe(fixture.beforeChanges)
    expect(r.users.map((u) => [u.email, u.status])).toEqual([
      ["alice@example.com", "registered"],
      ["bob@example.com", "registered"]
    ])
    const [alice] = r.users
    expect(alice?.keys).toEqual([
      {
        id: "k-main",
        name: "Primary",
        label: "sk-or-v1-aaa...aaa",
        status: "active",
        last_status: {
          usage: 1.5,
          usage_daily: 0.25,
          usage_weekly: 0.75,
          usage_monthly: 1.5,
          limit: 10,
          limit_remaining: 8.5
        },
        // 03-02: the gpt-4o row supersedes the unattributed one; 03-01 has only unattributed usage.
        usage: mainKeyUsage,
        // The replay point's day (03-02) as the keys page shows it: its per-model row only.
        today: { date: "2026-03-02", requests: 4, cost: 0.4 }
      },
      {
        id: "k-old",
        name: "Old",
        label: "sk-or-v1-bbb...bbb",
        status: "active",
        last_status: null,
        usage: { requests: 0, tokens_input: 0, tokens_output: 0, cost: 0 },
        today: { date: "2026-03-02", requests: 0, cost: 0 }
      }
    ])
    expect(alice?.tokens).toEqual([{ id: "t-ci", name: "ci", status: "active" }])
  })

  it("at the head shows the current state", () => {
    const r = report(runs.head)
    expect(r.position).toBe(fixture.head)
    const [alice, bob] = r.users
    expect(alice?.keys.map((k) => [k.id, k.name, k.status])).toEqual([
      ["k-main", "Renamed", "active"],
      ["k-old", "Old", "deleted"]
    ])
    expect(alice?.keys[0]?.usage).toEqual(mainKeyUsage)
    expect(alice?.tokens).toEqual([{ id: "t-ci", name: "ci", status: "revoked" }])
    expect(bob?.status).toBe("deleted")
    expect(bob?.keys.map((k) => k.status)).toEqual(["deleted"])
  })

  it("prints tables for one user, counting unattributed usage until a per-model row supersedes it", () => {
    expect(runs.text.code).toBe(0)
    const out = lines(runs.text.stdout)
    expect(out[0]).toBe("State as of position 13 (recorded 2026-03-02T12:00:00.000Z)")
    expect(out).toContain("User alice@example.com (u-alice), registered")
    expect(runs.text.stdout).not.toContain("bob@example.com")
    const usageRow = out.find((line) => /^\s+k-main\s+Primary\s+\d/.test(line))
    // 10 requests and $1.00 unattributed on 03-02: no per-model row supersedes it yet.
    expect(usageRow?.trim().split(/\s+/)).toEqual(["k-main", "Primary", "10", "0", "0", "$1.00", "$1.00"])
    expect(
      out
        .find((line) => line.includes("t-ci"))
        ?.trim()
        .split(/\s+/)
    ).toEqual(["t-ci", "ci", "active"])
  })
})
