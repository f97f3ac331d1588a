import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Config from "../src/Config.js"
import * as Sql from "../src/Sql.js"

const modeOf = (path: string) => NodeFs.statSync(path).mode & 0o777

it.effect("the data folder is 0700 and the database, its -wal and -shm and the secrets 0600", () =>
  Effect.gen(function* () {
    const dir = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-modes-")), "data")
    const file = NodePath.join(dir, "app.db")
    const config = yield* Config.load.pipe(
      Effect.withConfigProvider(yield* Config.dotEnvProvider({ cwd: dir, env: { DATA_DIR: dir } }))
    )
    yield* Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (x INTEGER)`
      yield* sql`INSERT INTO t VALUES (1)`
      expect(modeOf(dir)).toBe(0o700)
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect([path, modeOf(path)]).toEqual([path, 0o600])
    }).pipe(Effect.provide(Sql.layerFile(config.database._tag === "Sqlite" ? config.database.filename : ":memory:")))
    expect(modeOf(NodePath.join(dir, "secrets.json"))).toBe(0o600)
  })
)

it.effect("a database made 0644 by an older version is narrowed to 0600 when opened", () =>
  Effect.gen(function* () {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-modes-"))
    const file = NodePath.join(dir, "app.db")
    NodeFs.writeFileSync(file, "", { mode: 0o644 })
    NodeFs.chmodSync(file, 0o644)
    yield* Effect.provide(Effect.void, Sql.layerFile(file))
    expect(modeOf(file)).toBe(0o600)
  })
)
