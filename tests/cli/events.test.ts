import * as NodeFs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Run } from "./fixture.js"
import { jsonLines, lines, orwAll } from "./fixture.js"
import type { Fixture } from "./seed.js"
import { makeFixture, SECRETS } from "./seed.js"

const CASES = {
  json: ["events", "list", "--json"],
  table: ["events", "list"],
  streamTo: ["events", "list", "--stream", "key-k-main", "--to", "12", "--json"],
  typeLimit: ["events", "list", "--type", "UsageRecorded", "--limit", "2", "--json"],
  userFrom: ["events", "list", "--user", " Bob@Example.com", "--from", "10", "--json"],
  day2: ["events", "list", "--since", "2026-03-02", "--until", "2026-03-02", "--json"]
}

let fixture: Fixture
let runs: Record<keyof typeof CASES, Run>

beforeAll(async () => {
  fixture = await makeFixture()
  runs = await orwAll(CASES, { DATABASE_URL: `sqlite:///${fixture.file}` })
})

afterAll(() => NodeFs.rmSync(fixture.dir, { recursive: true, force: true }))

const positions = (run: Run) => {
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  return jsonLines(run.stdout).map((event) => event.position)
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe("orw events list", () => {
  it("--json prints every event, one object a line, with exactly the contract's keys", () => {
    const events = jsonLines(runs.json.stdout)
    expect(positions(runs.json)).toEqual(range(1, fixture.head))
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(
        ["data", "metadata", "position", "recorded_at", "schema_version", "stream_id", "stream_version", "type"].sort()
      )
      expect(event.schema_version).toBe(1)
      expect(event.data).not.toHaveProperty("_tag")
    }
    expect(events[2]).toMatchObject({
      stream_id: "key-k-main",
      type: "KeyAdded",
      recorded_at: "2026-03-01T09:10:00.000Z",
      metadata: { actor: "u-alice", source: "web" },
      data: { keyId: "k-main", name: "Primary", label: "sk-or-v1-aaa...aaa", at: "2026-03-01T09:10:00.000Z" }
    })
  })

  it("numbers each stream's versions from 1 without gaps", () => {
    const versions = new Map<string, Array<unknown>>()
    for (const event of jsonLines(runs.json.stdout)) {
      versions.set(String(event.stream_id), [...(versions.get(String(event.stream_id)) ?? []), event.stream_version])
    }
    expect(versions.size).toBe(10)
    for (const seen of versions.values()) expect(seen).toEqual(range(1, seen.length))
  })

  it("never prints a ciphertext, password hash or token hash", () => {
    for (const run of [runs.json, runs.table]) {
      for (const secret of Object.values(SECRETS)) expect(run.stdout).not.toContain(secret)
    }
    const data = jsonLines(runs.json.stdout).map((event) => event.data as Record<string, unknown>)
    const redacted = data.flatMap((d) =>
      ["ciphertext", "passwordHash", "tokenHash"].filter((k) => k in d).map((k) => d[k])
    )
    expect(redacted).toHaveLength(3 + 2 + 1 + 1)
    expect(new Set(redacted)).toEqual(new Set(["[redacted]"]))
  })

  it("prints a table by default", () => {
    const [header, ...rows] = lines(runs.table.stdout)
    expect(runs.table.code).toBe(0)
    expect(header?.split(/\s+/)).toEqual(["POSITION", "STREAM", "VERSION", "TYPE", "TIME", "ACTOR", "DATA"])
    expect(rows).toHaveLength(fixture.head)
    expect(rows[16]?.split(/\s+/).slice(0, 6)).toEqual([
      "17",
      "key-k-main",
      "3",
      "KeyRenamed",
      "2026-03-03T15:00:00.000Z",
      "web:u-alice"
    ])
    expect(rows[16]).toContain("name=Renamed")
  })

  // Each case combines two filters whose result differs from what either alone would give.
  it("--stream and --to narrow the log", () => {
    expect(positions(runs.streamTo)).toEqual([3, 12])
    expect(jsonLines(runs.streamTo.stdout).map((e) => e.stream_id)).toEqual(["key-k-main", "key-k-main"])
  })

  it("--type and --limit narrow the log, the limit counting matching events", () => {
    expect(positions(runs.typeLimit)).toEqual([13, 14])
    expect(jsonLines(runs.typeLimit.stdout).map((e) => e.type)).toEqual(["UsageRecorded", "UsageRecorded"])
  })

  it("--user finds a deleted user's events through the log, email stream included; --from bounds them", () => {
    // 10-11 key added and attached, 16 usage, 22 UserDeleted, 23 EmailReleased (registered at 8-9, before --from).
    expect(positions(runs.userFrom)).toEqual([10, 11, 16, 22, 23])
  })

  it("--since/--until bound recorded_at, a date meaning its whole UTC day", () => {
    expect(positions(runs.day2)).toEqual(range(12, 16))
  })
})
