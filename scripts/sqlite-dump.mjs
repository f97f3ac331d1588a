// A SQLite database as SQL text (what `sqlite3 .dump` writes), so a fixture database can live in git as text:
// the schema, every row, and the AUTOINCREMENT counters. `db` is an open better-sqlite3 database.
const quote = (value) => {
  if (value === null || value === undefined) return "NULL"
  if (typeof value === "number" || typeof value === "bigint") return String(value)
  if (Buffer.isBuffer(value)) return `X'${value.toString("hex")}'`
  return `'${String(value).replaceAll("'", "''")}'`
}

/** The SQL that rebuilds `db`: run it with `exec` on an empty database. */
export const dumpSql = (db) => {
  const lines = ["PRAGMA foreign_keys=OFF;", "BEGIN TRANSACTION;"]
  const objects = db
    .prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
    )
    .all()
  for (const { type, name, sql } of objects.filter((o) => o.type === "table")) {
    lines.push(`${sql};`)
    for (const row of db.prepare(`SELECT * FROM "${name}"`).raw().all()) {
      lines.push(`INSERT INTO "${name}" VALUES(${row.map(quote).join(",")});`)
    }
    void type
  }
  const hasSequence = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()
  if (hasSequence) {
    lines.push("DELETE FROM sqlite_sequence;")
    for (const row of db.prepare("SELECT name, seq FROM sqlite_sequence").raw().all()) {
      lines.push(`INSERT INTO sqlite_sequence VALUES(${row.map(quote).join(",")});`)
    }
  }
  for (const { sql } of objects.filter((o) => o.type !== "table")) lines.push(`${sql};`)
  lines.push("COMMIT;")
  return `${lines.join("\n")}\n`
}
