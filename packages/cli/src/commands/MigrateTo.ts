import { Args, Command } from "@effect/cli"
import { COPIED_TABLES, copyToPostgres } from "@orw/server/CopyToPostgres"
import { parseDatabaseUrl } from "@orw/server/DatabaseUrl"
import { Effect, Either, Redacted } from "effect"
import * as Database from "../Database.js"
import { CliError, describeError } from "../Failure.js"
import { printLines } from "../Output.js"

const target = Args.redacted({ name: "postgres-url" }).pipe(
  Args.withDescription("postgres://user:password@host:port/db of an empty database")
)

/**
 * `orw migrate-to <postgres url>`: copies the SQLite database (DATABASE_URL / DATA_DIR) into an empty
 * PostgreSQL database, rebuilds the projections there and checks the copy (event count, a digest per
 * stream). The URL is never printed: it carries the password.
 */
export const migrateTo = Command.make("migrate-to", { target }, ({ target }) =>
  Effect.gen(function* () {
    const source = yield* Database.storageDatabase
    if (source._tag !== "Sqlite") {
      return yield* new CliError({
        message: "migrate-to copies from SQLite: point DATABASE_URL or DATA_DIR at the file"
      })
    }
    const parsed = parseDatabaseUrl(Redacted.value(target))
    if (Either.isLeft(parsed) || parsed.right._tag !== "Postgres") {
      return yield* new CliError({ message: "migrate-to needs a postgres:// or postgresql:// URL" })
    }
    const report = yield* copyToPostgres(source.filename, parsed.right.url).pipe(
      Effect.mapError((error) => new CliError({ message: describeError(error) }))
    )
    yield* printLines([
      `Copied ${report.events} event(s) in ${report.streams} stream(s); every stream's digest matches the source`,
      `Log digest ${report.digest}`,
      ...COPIED_TABLES.map((table) => `  ${table}: ${report.rows[table] ?? 0} row(s)`),
      ...report.projections.map((p) => `Rebuilt projection ${p.name} up to position ${p.position}`)
    ])
  }).pipe(Effect.catchAllDefect((defect) => Effect.fail(new CliError({ message: describeError(defect) }))))
).pipe(Command.withDescription("Copy this SQLite database into an empty PostgreSQL database and rebuild it there"))
