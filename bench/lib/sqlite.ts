/**
 * better-sqlite3 as the server uses it (its own dependency, resolved from packages/server), for the raw
 * references: the bench package does not depend on it a second time.
 */
import { createRequire } from "node:module"

export interface Statement {
  run(...params: ReadonlyArray<unknown>): { changes: number; lastInsertRowid: number | bigint }
  all(...params: ReadonlyArray<unknown>): Array<Record<string, unknown>>
  get(...params: ReadonlyArray<unknown>): Record<string, unknown> | undefined
  iterate(...params: ReadonlyArray<unknown>): IterableIterator<Record<string, unknown>>
}
export interface Db {
  prepare(sql: string): Statement
  exec(sql: string): Db
  pragma(pragma: string): unknown
  close(): void
}

/** From bench/lib (run by tsx), or from packages/server/dist (a bundle of a bench child, see bench/rebuild.ts). */
const load = (): unknown => {
  for (const base of ["../../packages/server/package.json", "../package.json"]) {
    try {
      return createRequire(new URL(base, import.meta.url))("better-sqlite3")
    } catch {}
  }
  throw new Error("better-sqlite3 not found (pnpm install?)")
}
export const BetterSqlite3 = load() as new (file: string) => Db

/** A raw connection at the durability the server runs with: WAL, synchronous = FULL. */
export const openRaw = (file: string): Db => {
  const db = new BetterSqlite3(file)
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = FULL")
  db.pragma("busy_timeout = 5000")
  return db
}
