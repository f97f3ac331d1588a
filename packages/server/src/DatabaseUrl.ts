import * as NodePath from "node:path"
import { Data, Either, Redacted } from "effect"

/** The database DATABASE_URL names: which engine, and where. */
export type Database = Data.TaggedEnum<{
  /** A SQLite file (absolute path), or `:memory:`. */
  readonly Sqlite: { readonly filename: string }
  /** A PostgreSQL server; the URL carries the password, so it stays redacted. */
  readonly Postgres: { readonly url: Redacted.Redacted<string> }
}>

/** Constructors and `$match` for {@link Database}. */
export const Database = Data.taggedEnum<Database>()

/**
 * Reads DATABASE_URL: `postgres://` or `postgresql://` is PostgreSQL; the original's SQLAlchemy
 * forms (`sqlite:///./data/app.db` relative, `sqlite:////var/lib/orw/app.db` absolute, with an
 * optional `+driver`) and a plain path are a SQLite file, relative paths resolved against `cwd`.
 * The error is one line that never quotes the URL (it may hold a password).
 */
export const parseDatabaseUrl = (url: string, cwd: string = process.cwd()): Either.Either<Database, string> => {
  const trimmed = url.trim()
  if (trimmed === "") return Either.left("DATABASE_URL is empty")
  if (/^postgres(?:ql)?(?:\+\w+)?:\/\//i.test(trimmed)) {
    return Either.right(Database.Postgres({ url: Redacted.make(trimmed) }))
  }
  const match = /^sqlite(?:\+\w+)?:\/\/(.*)$/i.exec(trimmed)
  if (match === null) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
      return Either.left(
        `DATABASE_URL must be a sqlite:/// or postgres:// URL or a file path, got ${trimmed.split(":")[0]}://...`
      )
    }
    return Either.right(Database.Sqlite({ filename: NodePath.resolve(cwd, trimmed) }))
  }
  // `sqlite:///rel` leaves "/rel", `sqlite:////abs` leaves "//abs".
  const rest = match[1] ?? ""
  if (rest === "/:memory:" || rest === ":memory:") return Either.right(Database.Sqlite({ filename: ":memory:" }))
  if (!rest.startsWith("/") || rest.length < 2)
    return Either.left("DATABASE_URL must name a file: sqlite:///path/to/app.db")
  const path = rest.slice(1)
  return Either.right(Database.Sqlite({ filename: NodePath.isAbsolute(path) ? path : NodePath.resolve(cwd, path) }))
}

/** Where a database is, for messages: the SQLite file, or the PostgreSQL server and database without credentials. */
export const describeDatabase = (database: Database): string =>
  Database.$match(database, {
    Sqlite: ({ filename }) => filename,
    Postgres: ({ url }) => {
      try {
        const parsed = new URL(Redacted.value(url))
        return `postgres://${parsed.host}${parsed.pathname}`
      } catch {
        return "postgres://(unparsable URL)"
      }
    }
  })
