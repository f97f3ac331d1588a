import * as NodePath from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Either, Redacted } from "effect"
import { Database, parseDatabaseUrl } from "../src/DatabaseUrl.js"

const cwd = "/srv/orw"
const sqlite = (filename: string) => Either.right(Database.Sqlite({ filename }))
const parsed = (url: string) => parseDatabaseUrl(url, cwd)

describe("DATABASE_URL", () => {
  it("the original's SQLAlchemy forms and plain paths are SQLite files", () => {
    expect(parsed("sqlite:///./data/app.db")).toEqual(sqlite(NodePath.resolve(cwd, "data/app.db")))
    expect(parsed("sqlite:///data/app.db")).toEqual(sqlite(NodePath.resolve(cwd, "data/app.db")))
    expect(parsed("sqlite:////var/lib/orw/app.db")).toEqual(sqlite("/var/lib/orw/app.db"))
    expect(parsed("sqlite+pysqlite:////var/lib/orw/app.db")).toEqual(sqlite("/var/lib/orw/app.db"))
    expect(parsed(" ./app.db ")).toEqual(sqlite(NodePath.resolve(cwd, "app.db")))
    expect(parsed("/abs/app.db")).toEqual(sqlite("/abs/app.db"))
    expect(parsed("sqlite:///:memory:")).toEqual(sqlite(":memory:"))
  })

  it("postgres:// and postgresql:// choose PostgreSQL, the URL kept redacted", () => {
    for (const url of ["postgres://orw:s3cret@db:5432/orw", "postgresql://orw:s3cret@db/orw", "POSTGRES://db/orw"]) {
      const choice = parsed(url)
      expect(Either.isRight(choice) && choice.right._tag).toBe("Postgres")
      if (Either.isRight(choice) && choice.right._tag === "Postgres") {
        expect(Redacted.value(choice.right.url)).toBe(url)
        expect(String(choice.right.url)).not.toContain("s3cret")
      }
    }
  })

  it("other schemes and empty or fileless URLs are one line that does not quote the URL", () => {
    const errors = ["mysql://orw:s3cret@db/orw", "", "sqlite://", "sqlite:///"].map(parsed)
    expect(errors.map(Either.isLeft)).toEqual([true, true, true, true])
    expect(errors[0]).toEqual(
      Either.left("DATABASE_URL must be a sqlite:/// or postgres:// URL or a file path, got mysql://...")
    )
    for (const error of errors) {
      const message = Either.isLeft(error) ? error.left : ""
      expect(message).not.toContain("s3cret")
      expect(message).not.toContain("\n")
    }
  })
})
