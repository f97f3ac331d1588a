import * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"

/** The slice of better-sqlite3 the admin commands use (the package ships no types of its own). */
export interface SqliteDatabase {
  prepare(sql: string): { all(...params: ReadonlyArray<unknown>): Array<Record<string, unknown>> }
  pragma(source: string, options?: { readonly simple?: boolean }): unknown
  exec(source: string): unknown
  backup(file: string, options?: { readonly progress?: (info: unknown) => number }): Promise<unknown>
  close(): unknown
}

type SqliteConstructor = new (
  file: string,
  options?: { readonly readonly?: boolean; readonly fileMustExist?: boolean; readonly timeout?: number }
) => SqliteDatabase

const Sqlite = createRequire(import.meta.url)("better-sqlite3") as SqliteConstructor

/** Opens an existing database file read-only. */
export const openReadOnly = (file: string): SqliteDatabase => new Sqlite(file, { readonly: true, fileMustExist: true })

/**
 * SQLite's online backup of `source` into `target`, in one step: the copy is one read transaction of the
 * source, so it is a consistent snapshot however much a server writes meanwhile (WAL lets it go on).
 */
export const backupFile = async (source: string, target: string) => {
  const db = openReadOnly(source)
  try {
    await db.backup(target, { progress: () => 0x7fffffff })
  } finally {
    db.close()
  }
}

/** The lock file a server may keep beside its database: `<dir>/server.lock`, with its pid. */
const lockFile = (databaseFile: string) => NodePath.join(NodePath.dirname(databaseFile), "server.lock")

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Who holds the database, if anyone: a live pid in `server.lock`, else any open connection (a server, an
 * `orw` command), which an exclusive lock attempt detects: in WAL mode every open connection holds a shared
 * lock that an exclusive locking-mode transaction cannot get past.
 */
export const holder = (databaseFile: string): string | undefined => {
  const lock = lockFile(databaseFile)
  if (NodeFs.existsSync(lock)) {
    const pid = Number.parseInt(NodeFs.readFileSync(lock, "utf8").trim(), 10)
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return `a server (pid ${pid}, ${lock})`
  }
  if (!NodeFs.existsSync(databaseFile)) return undefined
  const probe = new Sqlite(databaseFile, { fileMustExist: true, timeout: 0 })
  try {
    probe.pragma("locking_mode = EXCLUSIVE")
    probe.exec("BEGIN EXCLUSIVE")
    probe.exec("ROLLBACK")
    return undefined
  } catch {
    return "another process (a running server or orw command)"
  } finally {
    probe.close()
  }
}
