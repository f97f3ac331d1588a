import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Args, Command } from "@effect/cli"
import { PRIVATE_FILE_MODE } from "@orw/server/Sql"
import { Effect } from "effect"
import * as Database from "../Database.js"
import { CliError, describeError } from "../Failure.js"
import { printLines } from "../Output.js"
import { backupFile, holder, openReadOnly } from "../Sqlite.js"

const file = Args.file({ name: "file" })

const attempt = <A>(what: string, run: () => Promise<A> | A) =>
  Effect.tryPromise({
    try: async () => run(),
    catch: (error) => new CliError({ message: `${what}: ${describeError(error)}` })
  })

/** Events in a database file, and whether it is an openrouter-watcher database at all. */
const inspect = (path: string) =>
  attempt(`${path} is not a usable database`, () => {
    const db = openReadOnly(path)
    try {
      const check = db.pragma("quick_check", { simple: true })
      if (check !== "ok") throw new Error(`integrity check: ${String(check)}`)
      const [row] = db.prepare("SELECT COUNT(*) AS n, COALESCE(MAX(position), 0) AS head FROM events").all()
      return { events: Number(row?.n), head: Number(row?.head) }
    } finally {
      db.close()
    }
  })

/**
 * Writes to a temporary file beside `target` (mode 0600), then renames it into place: a failed copy never
 * leaves a half-written file under the final name.
 */
const copyInto = (source: string, target: string) =>
  attempt(`Cannot write ${target}`, async () => {
    const temporary = NodePath.join(NodePath.dirname(target), `.${NodePath.basename(target)}.${process.pid}.tmp`)
    NodeFs.rmSync(temporary, { force: true })
    NodeFs.closeSync(NodeFs.openSync(temporary, "w", PRIVATE_FILE_MODE))
    try {
      await backupFile(source, temporary)
      NodeFs.chmodSync(temporary, PRIVATE_FILE_MODE)
      // The WAL and shared memory of the file being replaced must not be applied to the new one.
      for (const suffix of ["-wal", "-shm"]) NodeFs.rmSync(`${target}${suffix}`, { force: true })
      NodeFs.renameSync(temporary, target)
    } finally {
      NodeFs.rmSync(temporary, { force: true })
    }
  })

/** `orw backup FILE`: an online, consistent copy of the database, also while the server writes. */
export const backup = Command.make("backup", { file }, (opts) =>
  Effect.gen(function* () {
    const source = yield* Effect.flatMap(Database.storageFile, Database.existingFile)
    const target = NodePath.resolve(opts.file)
    if (target === NodePath.resolve(source))
      return yield* new CliError({ message: "The backup cannot be the database" })
    if (NodeFs.existsSync(target)) return yield* new CliError({ message: `${target} exists: choose a new file` })
    yield* copyInto(source, target)
    const { events, head } = yield* inspect(target)
    yield* printLines([`Backed up ${source} to ${target}: ${events} events, up to position ${head}`])
  })
).pipe(
  Command.withDescription(
    "Copy the database to FILE with SQLite's online backup (consistent while the server runs; mode 0600)"
  )
)

/** `orw restore FILE`: replaces the database with a backup; refuses while a server (or orw) uses it. */
export const restore = Command.make("restore", { file }, (opts) =>
  Effect.gen(function* () {
    const target = yield* Database.storageFile
    const source = NodePath.resolve(opts.file)
    if (!NodeFs.existsSync(source)) return yield* new CliError({ message: `Backup not found: ${source}` })
    const { events, head } = yield* inspect(source)
    const user = yield* attempt(`Cannot check ${target}`, () => holder(target))
    if (user !== undefined) {
      return yield* new CliError({ message: `The database ${target} is in use by ${user}: stop it, then restore` })
    }
    NodeFs.mkdirSync(NodePath.dirname(target), { recursive: true, mode: 0o700 })
    yield* copyInto(source, target)
    yield* printLines([
      `Restored ${source} into ${target}: ${events} events, up to position ${head}`,
      "The next start migrates it if it is older and brings its projections up to date."
    ])
  })
).pipe(Command.withDescription("Replace the database with a backup FILE (refused while a server uses the database)"))
