import * as NodePath from "node:path"

/**
 * Resolves DATABASE_URL to a file path. Accepts the original's SQLAlchemy forms
 * (`sqlite:///./data/app.db` relative, `sqlite:////var/lib/orw/app.db` absolute) and a
 * plain path; relative paths resolve against the working directory.
 */
export const databaseFile = (url: string, cwd: string = process.cwd()): string => {
  const trimmed = url.trim()
  if (trimmed === "") throw new Error("DATABASE_URL is empty")
  const match = /^sqlite(?:\+\w+)?:\/\/(.*)$/.exec(trimmed)
  if (match === null) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
      throw new Error(`DATABASE_URL must be a sqlite:/// URL or a file path, got ${trimmed.split(":")[0]}://...`)
    }
    return NodePath.resolve(cwd, trimmed)
  }
  // `sqlite:///rel` leaves "/rel", `sqlite:////abs` leaves "//abs".
  const rest = match[1] ?? ""
  if (rest === "/:memory:" || rest === ":memory:") return ":memory:"
  if (!rest.startsWith("/") || rest.length < 2)
    throw new Error("DATABASE_URL must name a file: sqlite:///path/to/app.db")
  const path = rest.slice(1)
  return NodePath.isAbsolute(path) ? path : NodePath.resolve(cwd, path)
}
