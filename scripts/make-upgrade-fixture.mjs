#!/usr/bin/env node
/**
 * Rebuilds tests/fixtures/upgrade-v1.sql: the SQL of a SQLite file exactly as the first released schema
 * (commit c76269b) left it, made by that commit's own code (its migrations 0001–0003, Dispatcher,
 * deciders, KeyVault and v1 projections), from the fake inputs in tests/fixtures/upgrade-v1.json.
 *
 *   node scripts/make-upgrade-fixture.mjs
 *
 * It checks c76269b out into a temporary git worktree, installs it from the pnpm store
 * (`--offline`), runs scripts/upgrade-fixture/generate-v1.ts there with tsx, copies the file
 * (checkpointed, no -wal/-shm) and removes the worktree. Re-runnable; ids, secrets and event
 * times are fixed, only random salts, nonces and `recorded_at` differ between runs.
 * tests/reliability/upgrade.test.ts starts the current server on a copy of it.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const fixed = path.join(root, "tests/fixtures/upgrade-v1.json")
const target = path.join(root, "tests/fixtures/upgrade-v1.sql")
const { commit } = JSON.parse(fs.readFileSync(fixed, "utf8"))

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "orw-first-"))
const checkout = path.join(tmp, "checkout")
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: "inherit" })
try {
  run("git", ["worktree", "add", "--detach", checkout, commit], root)
  run("pnpm", ["install", "--frozen-lockfile", "--offline", "--silent"], checkout)
  const server = path.join(checkout, "packages/server")
  fs.copyFileSync(path.join(root, "scripts/upgrade-fixture/generate-v1.ts"), path.join(server, "generate-v1.ts"))
  const out = path.join(tmp, "app.db")
  run("pnpm", ["exec", "tsx", "generate-v1.ts", out, fixed], server)
  // One self-contained, small file: fold the WAL in, leave WAL mode (the server turns it back on)
  // and store it in 1 KiB pages instead of 4 KiB ones: the same schema and rows, a quarter the size.
  const Database = (await import(path.join(server, "node_modules/better-sqlite3/lib/index.js"))).default
  const db = new Database(out)
  db.pragma("wal_checkpoint(TRUNCATE)")
  db.pragma("journal_mode = DELETE")
  db.pragma("page_size = 1024")
  db.exec("VACUUM")
  // Kept in git as SQL text (what `sqlite3 .dump` writes), not as a database file.
  const { dumpSql } = await import("./sqlite-dump.mjs")
  fs.writeFileSync(target, dumpSql(db))
  db.close()
  console.log(`${path.relative(root, target)}: ${fs.statSync(target).size} bytes`)
} finally {
  try {
    run("git", ["worktree", "remove", "--force", checkout], root)
  } catch {}
  fs.rmSync(tmp, { recursive: true, force: true })
}
