/**
 * The two sides of `rebuild.1m`, each run in a process of its own (bench/rebuild.ts spawns it) so that the
 * peak RSS it reports is its own: `ours FILE` rebuilds every projection through the server's Projector,
 * `raw FILE` is the floor. Prints `{"ms", "rssMb"}`. The raw side loads nothing but better-sqlite3.
 */
import { allProjections } from "../../packages/server/src/Projections/index.js"
import { type Db, openRaw } from "./sqlite.js"

/** The tables a rebuild writes (the raw loop writes the rows of those the generated log touches). */
export const TABLES = allProjections.map((p) => p.table)

/** Child: ours, `Projector.rebuild()` of every projection through the store's layers. */
const childOurs = async (file: string) => {
  const { Projector } = await import("@orw/server/Projector")
  const Core = await import("@orw/server/Core")
  const Sql = await import("@orw/server/Sql")
  const { Effect, Layer, Logger, LogLevel, ManagedRuntime } = await import("effect")
  const runtime = ManagedRuntime.make(
    Core.storeWith(Sql.layerFile(file)).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))
  )
  await runtime.runPromise(Effect.void)
  const started = performance.now()
  await runtime.runPromise(Effect.flatMap(Projector, (p) => p.rebuild()))
  const ms = performance.now() - started
  await runtime.dispose()
  return ms
}

/**
 * Child: the floor. Reads the log once (an iterator: bounded memory), parses each event's JSON, and
 * writes the rows every projection would into fresh tables of the same DDL, 2,000 events a transaction,
 * then swaps them in and creates the same indexes.
 */
const childRaw = (file: string) => {
  const db: Db = openRaw(file)
  const started = performance.now()
  const ddl = new Map<string, string>()
  for (const t of TABLES) {
    const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(t)
    ddl.set(t, String(row?.sql))
  }
  const indexes = db
    .prepare(
      "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (" +
        TABLES.map(() => "?").join(",") +
        ")"
    )
    .all(...TABLES)
    .map((r) => String(r.sql))
  for (const t of TABLES) {
    db.exec(`DROP TABLE IF EXISTS "${t}__rebuild"`)
    db.exec(ddl.get(t)!.replace(/CREATE TABLE\s+"?(\w+)"?/, `CREATE TABLE "${t}__rebuild"`))
  }
  const q = (s: string) => db.prepare(s)
  const st = {
    user: q(
      `INSERT INTO "users__rebuild" (id, email, password_hash, password_changed_at, is_active, key_count, created_at, updated_at) VALUES (?,?,?,?,1,0,?,?)`
    ),
    attach: q(`UPDATE "users__rebuild" SET key_count = key_count + 1 WHERE id = ?`),
    key: q(
      `INSERT INTO "api_keys__rebuild" (id, user_id, name, label, key_hash, key_ciphertext, is_active, is_invalid, is_failing, created_at, updated_at) VALUES (?,?,?,?,?,?,1,0,0,?,?)`
    ),
    lastUsed: q(
      `UPDATE "api_keys__rebuild" SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`
    ),
    usage:
      q(`INSERT INTO "usage_stats__rebuild" (api_key_id, user_id, date, model, requests_count, tokens_input, tokens_output, cost_micros, byok_cost_micros, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)
      ON CONFLICT (api_key_id, date, model) DO UPDATE SET requests_count = excluded.requests_count, tokens_input = excluded.tokens_input,
      tokens_output = excluded.tokens_output, cost_micros = excluded.cost_micros, byok_cost_micros = excluded.byok_cost_micros, updated_at = excluded.updated_at`),
    token: q(
      `INSERT INTO "api_tokens__rebuild" (id, user_id, name, token_hash, is_active, created_at) VALUES (?,?,?,?,1,?)`
    ),
    revoke: q(`UPDATE "api_tokens__rebuild" SET is_active = 0, revoked_at = ? WHERE id = ?`),
    begin: q("BEGIN"),
    commit: q("COMMIT")
  }
  const read = db.prepare("SELECT position, type, data FROM events WHERE position > ? ORDER BY position LIMIT 2000")
  let position = 0
  for (;;) {
    const rows = read.all(position)
    if (rows.length === 0) break
    st.begin.run()
    for (const r of rows) {
      const e = JSON.parse(String(r.data))
      switch (r.type) {
        case "UserRegistered":
          st.user.run(e.userId, e.email, e.passwordHash, e.at, e.at, e.at)
          break
        case "KeyAttached":
          st.attach.run(e.userId)
          break
        case "KeyAdded":
          st.key.run(e.keyId, e.userId, e.name, e.label, e.keyHash, e.ciphertext, e.at, e.at)
          break
        case "UsageRecorded":
          st.lastUsed.run(e.at, e.keyId, e.at)
          st.usage.run(
            e.keyId,
            e.userId,
            e.date,
            e.model,
            e.totals.requests,
            e.totals.tokensInput,
            e.totals.tokensOutput,
            e.totals.cost,
            e.totals.byokCost,
            e.at
          )
          break
        case "TokenIssued":
          st.token.run(e.tokenId, e.userId, e.name, e.tokenHash, e.at)
          break
        case "TokenRevoked":
          st.revoke.run(e.at, e.tokenId)
          break
      }
    }
    st.commit.run()
    position = Number(rows.at(-1)?.position)
  }
  st.begin.run()
  for (const t of TABLES) {
    db.exec(`DROP TABLE "${t}"`)
    db.exec(`ALTER TABLE "${t}__rebuild" RENAME TO "${t}"`)
  }
  for (const index of indexes) db.exec(index)
  st.commit.run()
  const ms = performance.now() - started
  db.close()
  return ms
}

const [mode, file] = [process.argv[2], process.argv[3]]
if ((mode === "ours" || mode === "raw") && file !== undefined) {
  const ms = mode === "ours" ? await childOurs(file) : childRaw(file)
  console.log(JSON.stringify({ ms, rssMb: process.resourceUsage().maxRSS / 1024 }))
  process.exit(0)
}
