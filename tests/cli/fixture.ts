import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

/** The repository root: the CLI runs there, as `pnpm orw` does. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url))
/** What `pnpm orw` runs: the bundled CLI, rebuilt when a source is newer. */
const BIN = NodePath.join(ROOT, "scripts/orw.mjs")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the real `orw` in a child process: cwd the repo root, stdin closed, only the given database env. */
export const orw = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve, reject) => {
    const { DATABASE_URL: _url, DATA_DIR: _dir, ...inherited } = process.env
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...inherited, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/**
 * Runs several `orw` invocations, two at a time (more at once only makes them compete for
 * the CPU), and returns their results by name.
 */
export const orwAll = async <K extends string>(
  cases: Record<K, ReadonlyArray<string>>,
  env: Record<string, string>
): Promise<Record<K, Run>> => {
  const queue = Object.entries(cases) as Array<[K, ReadonlyArray<string>]>
  const results: Partial<Record<K, Run>> = {}
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) results[next[0]] = await orw(next[1], env)
  }
  await Promise.all([worker(), worker()])
  return results as Record<K, Run>
}

/** The non-empty lines of an output. */
export const lines = (text: string): Array<string> => text.split("\n").filter((line) => line.trim() !== "")

/** `--json` output parsed line by line. */
export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  lines(text).map((line) => JSON.parse(line) as Record<string, unknown>)

/** The slice of better-sqlite3 the tests use to look at (and tamper with) the file directly. */
export interface SqliteDatabase {
  prepare(sql: string): {
    all(...params: ReadonlyArray<unknown>): Array<Record<string, unknown>>
    run(...params: ReadonlyArray<unknown>): unknown
  }
  pragma(source: string): unknown
  exec(source: string): unknown
  close(): unknown
}

/** better-sqlite3 is the server's dependency; load it from there. */
export const openSqlite = (file: string): SqliteDatabase => {
  const Sqlite = createRequire(NodePath.join(ROOT, "packages/server/package.json"))("better-sqlite3") as new (
    file: string
  ) => SqliteDatabase
  return new Sqlite(file)
}
