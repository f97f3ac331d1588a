import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { afterAll, describe, expect, it } from "vitest"
import { lines, openSqlite, orw, ROOT } from "./fixture.js"

const TABLES = ["users", "api_keys", "usage_stats", "api_tokens"]
const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) child.kill("SIGKILL")
})

const tempDir = () => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-admin-"))

/** The crash test's writer (users and keys as fast as it can) on `file`; resolves after `acks` acknowledged appends. */
const startWriter = (file: string, acks: number) =>
  new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "tests/reliability/support/writer.ts", file], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(child)
    let seen = 0
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.stdout.on("data", (chunk: Buffer) => {
      seen += chunk
        .toString()
        .split("\n")
        .filter((l) => l.startsWith("ack ")).length
      if (seen >= acks) resolve(child)
    })
    child.on("exit", () => reject(new Error(`writer exited: ${stderr}`)))
  })

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners("exit")
    child.on("exit", () => resolve())
    child.kill("SIGKILL")
  })

const rows = (file: string) => {
  const db = openSqlite(file)
  try {
    const tables = Object.fromEntries(
      TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1`).all()] as const)
    )
    const events = db.prepare("SELECT * FROM events ORDER BY position").all()
    return { tables, events }
  } finally {
    db.close()
  }
}

describe("orw backup and restore", () => {
  it("a backup taken while a writer appends is a consistent prefix of the log; restore refuses a database in use", async () => {
    const dir = tempDir()
    const file = NodePath.join(dir, "app.db")
    const copy = NodePath.join(tempDir(), "backup.db")
    const writer = await startWriter(file, 30)
    const env = { DATABASE_URL: file }

    const backup = await orw(["backup", copy], env)
    expect(backup.stderr).toBe("")
    expect(backup.code).toBe(0)
    expect(backup.stdout).toMatch(/^Backed up .* events, up to position \d+/)
    expect(NodeFs.statSync(copy).mode & 0o777).toBe(0o600)

    const refused = await orw(["restore", copy], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^orw: The database .* is in use by .*: stop it, then restore\n$/)
    await stop(writer)

    const source = rows(file)
    const backedUp = rows(copy)
    // A prefix: the backup's events are the log's first ones, exactly, with no gap and no torn command.
    expect(backedUp.events.length).toBeGreaterThan(0)
    expect(backedUp.events.length).toBeLessThan(source.events.length)
    expect(backedUp.events).toEqual(source.events.slice(0, backedUp.events.length))
    // Consistent: its read tables are what a rebuild from its own log makes.
    const rebuilt = await orw(["projections", "rebuild"], { DATABASE_URL: copy })
    expect(rebuilt.code).toBe(0)
    expect(rows(copy).tables).toEqual(backedUp.tables)

    const restored = await orw(["restore", copy], env)
    expect(restored.stderr).toBe("")
    expect(restored.code).toBe(0)
    expect(rows(file).events).toEqual(backedUp.events)
    expect(NodeFs.existsSync(`${file}-wal`) ? NodeFs.statSync(`${file}-wal`).size : 0).toBe(0)
    expect(NodeFs.statSync(file).mode & 0o777).toBe(0o600)
  })

  it("restore refuses a file that is not a database and leaves the target untouched", async () => {
    const dir = tempDir()
    const junk = NodePath.join(dir, "junk.db")
    NodeFs.writeFileSync(junk, "not a database")
    const env = { DATABASE_URL: NodePath.join(dir, "app.db") }
    const run = await orw(["restore", junk], env)
    expect(run.code).toBe(1)
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^orw: .*junk\.db is not a usable database/)])
    expect(NodeFs.existsSync(NodePath.join(dir, "app.db"))).toBe(false)
  })
})

describe("orw doctor", () => {
  it("one line per check with its verdict, exit 0 on a healthy install; exit 1 and a FAIL line on a broken config", async () => {
    const server = await new Simulator().start()
    try {
      const dir = tempDir()
      const env = { DATA_DIR: dir, OPENROUTER_API_URL: server.url }
      const healthy = await orw(["doctor"], env)
      const report = lines(healthy.stdout)
      expect(report.map((l) => l.split(/\s+/).slice(0, 2).join(" "))).toEqual([
        "OK config",
        "WARN database",
        "OK upstream",
        "OK file",
        "OK server"
      ])
      expect(healthy.code).toBe(0)

      const broken = await orw(["doctor"], { ...env, LOG_LEVEL: "LOUD" })
      expect(broken.code).toBe(1)
      expect(lines(broken.stdout)[0]).toMatch(/^FAIL\s+config\s+LOG_LEVEL: /)
      expect(broken.stderr).toContain("orw: 1 check(s) failed")

      NodeFs.chmodSync(dir, 0o755)
      const loose = await orw(["doctor"], env)
      expect(loose.code).toBe(1)
      expect(loose.stdout).toMatch(/FAIL\s+file modes\s+.* is 0755/)
    } finally {
      await server.close()
    }
  })
})
