import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { Command } from "@effect/cli"
import { AppConfig, layerDotEnv, StorageConfig } from "@orw/server/Config"
import { allProjections } from "@orw/server/Projections/index"
import * as Settings from "@orw/server/Settings"
import { migrations } from "@orw/server/Sql"
import { Duration, Effect, Either } from "effect"
import { CliError, describeError } from "../Failure.js"
import { printLines } from "../Output.js"
import { holder, openReadOnly } from "../Sqlite.js"

type Verdict = "ok" | "warn" | "fail"
interface Check {
  readonly verdict: Verdict
  readonly name: string
  readonly detail: string
}

const check = (name: string, verdict: Verdict, detail: string): Check => ({ name, verdict, detail })

/** What the database file says, read-only (doctor never migrates or writes). */
const inspectDatabase = (file: string): ReadonlyArray<Check> => {
  if (!NodeFs.existsSync(file)) {
    return [check("database", "warn", `${file} does not exist yet (the server creates it at its first start)`)]
  }
  let db: ReturnType<typeof openReadOnly> | undefined
  try {
    db = openReadOnly(file)
    const integrity = db.pragma("quick_check", { simple: true })
    if (integrity !== "ok") return [check("database", "fail", `${file}: integrity check says ${String(integrity)}`)]
    const checks = [check("database", "ok", `${file} opens, integrity ok`)]
    const applied = db
      .prepare("SELECT migration_id FROM effect_sql_migrations")
      .all()
      .map((r) => Number(r.migration_id))
    const known = Object.keys(migrations).length
    const latest = Math.max(0, ...applied)
    checks.push(
      latest > known
        ? check("migrations", "fail", `database migrated to ${latest}, newer than this version knows (${known})`)
        : latest < known
          ? check("migrations", "warn", `${applied.length} of ${known} applied; the rest run at the next start`)
          : check("migrations", "ok", `${known} of ${known} applied`)
    )
    const head = Number(db.prepare("SELECT COALESCE(MAX(position), 0) AS head FROM events").all()[0]?.head)
    const stored = new Map(
      db
        .prepare("SELECT name, version, position FROM projection_checkpoints")
        .all()
        .map((r) => [String(r.name), { version: Number(r.version), position: Number(r.position) }])
    )
    const behind = allProjections.flatMap((p) => {
      const checkpoint = stored.get(p.name)
      if (checkpoint === undefined || checkpoint.version !== p.version) return [`${p.name} (to rebuild)`]
      return checkpoint.position < head ? [`${p.name} (lag ${head - checkpoint.position})`] : []
    })
    checks.push(
      behind.length === 0
        ? check("projections", "ok", `${allProjections.length} up to date with the log (${head} events)`)
        : check("projections", "warn", `${behind.join(", ")}; brought up to date at the next start`)
    )
    return checks
  } catch (error) {
    return [check("database", "fail", `${file}: ${describeError(error)}`)]
  } finally {
    db?.close()
  }
}

const modeOf = (path: string) => NodeFs.statSync(path).mode & 0o777
const octal = (mode: number) => `0${mode.toString(8)}`

/** The data folder 0700, the database, its -wal/-shm and the secrets 0600: they hold hashes and wrapped keys. */
const inspectModes = (dataDir: string, databaseFile: string): Check => {
  const loose: Array<string> = []
  const dir = NodePath.dirname(databaseFile)
  for (const folder of new Set([dataDir, dir])) {
    if (NodeFs.existsSync(folder) && (modeOf(folder) & 0o077) !== 0) loose.push(`${folder} is ${octal(modeOf(folder))}`)
  }
  const files = ["", "-wal", "-shm"].map((s) => `${databaseFile}${s}`).concat(NodePath.join(dir, "secrets.json"))
  for (const file of files) {
    if (NodeFs.existsSync(file) && (modeOf(file) & 0o077) !== 0) loose.push(`${file} is ${octal(modeOf(file))}`)
  }
  return loose.length === 0
    ? check("file modes", "ok", "data folder 0700, database and secrets 0600")
    : check("file modes", "fail", `${loose.join(", ")} (chmod 700 the folder, 600 the files)`)
}

/** Any HTTP answer from OPENROUTER_API_URL within 5 s counts as reachable. */
const inspectUpstream = (url: string) =>
  Effect.tryPromise({
    try: (signal) => fetch(`${url}/models`, { signal, method: "GET" }),
    catch: (error) => error
  }).pipe(
    Effect.timeoutFail({ duration: Duration.seconds(5), onTimeout: () => new Error("no answer within 5 s") }),
    Effect.match({
      onSuccess: (response) => check("upstream", "ok", `${url} answers (HTTP ${response.status})`),
      onFailure: (error) => check("upstream", "fail", `${url} is not reachable: ${describeError(error)}`)
    })
  )

/**
 * `orw doctor`: one line per check (config, database, migrations, projections, upstream, file modes, server)
 * with its verdict; exit code 1 when one fails. It never creates or migrates the database (in development,
 * loading the settings generates the development secrets as a start would).
 */
export const doctor = Command.make("doctor", {}, () =>
  Effect.gen(function* () {
    const checks: Array<Check> = []
    const config = yield* Effect.either(Effect.provide(AppConfig, Settings.layer()))
    const storage = yield* Effect.either(Effect.provide(StorageConfig, layerDotEnv()))
    if (Either.isRight(config)) {
      const c = config.right
      checks.push(check("config", "ok", `${c.nodeEnv}, listening on ${c.host}:${c.port}, log ${c.logFormat}`))
    } else {
      checks.push(check("config", "fail", describeError(config.left)))
    }
    const sqliteFile =
      Either.isRight(storage) && storage.right.database._tag === "Sqlite" ? storage.right.database.filename : undefined
    if (Either.isRight(storage) && sqliteFile === undefined) {
      checks.push(
        check("database", "warn", "PostgreSQL: doctor inspects SQLite files; check the server with its own tools")
      )
    }
    if (sqliteFile !== undefined) checks.push(...inspectDatabase(sqliteFile))
    if (Either.isRight(config)) checks.push(yield* inspectUpstream(config.right.openRouterApiUrl))
    if (Either.isRight(storage) && sqliteFile !== undefined) {
      const { dataDir } = storage.right
      const databaseFile = sqliteFile
      checks.push(inspectModes(dataDir, databaseFile))
      const user = NodeFs.existsSync(databaseFile) ? holder(databaseFile) : undefined
      checks.push(check("server", "ok", user === undefined ? "no process has the database open" : `in use by ${user}`))
    }
    const width = Math.max(...checks.map((c) => c.name.length))
    yield* printLines(checks.map((c) => `${c.verdict.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`))
    const failed = checks.filter((c) => c.verdict === "fail").length
    if (failed > 0) return yield* new CliError({ message: `${failed} check(s) failed` })
  })
).pipe(
  Command.withDescription(
    "Check config, database, migrations, projections, upstream reachability and file modes (exit 1 on a failure)"
  )
)
