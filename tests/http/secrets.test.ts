import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { KeyVault } from "@orw/server/Crypto/KeyVault"
import { Effect, Either, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { clusterDir } from "../../packages/server/test/support/Postgres.js"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

/** Every row of every table of the server's PostgreSQL database, as JSON text. */
const everyTableAsText = () =>
  server.run(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const tables = yield* sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' ORDER BY table_name`
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(["events", "key_vault", "api_keys"]))
      const texts: Array<string> = []
      for (const { table_name } of tables) {
        const rows = yield* sql<{ row: string }>`SELECT row_to_json(t)::text AS row FROM ${sql(table_name)} t`
        texts.push(...rows.map((r) => r.row))
      }
      return texts.join("\n")
    })
  )

/**
 * The data files of the server's PostgreSQL database and the cluster's WAL, flushed by a CHECKPOINT:
 * what the disk holds. Empty when the cluster is not the tests' own (its files are not ours to read).
 */
const postgresFiles = async () => {
  const dir = clusterDir()
  if (dir === "") return []
  const oid = await server.run(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.zipRight(
        sql`CHECKPOINT`,
        sql<{ oid: number }>`SELECT oid FROM pg_database WHERE datname = current_database()`
      )
    )
  )
  const data = NodePath.join(dir, "data")
  const folders = [NodePath.join(data, "base", String(oid[0]?.oid)), NodePath.join(data, "pg_wal")]
  return folders.flatMap((folder) =>
    NodeFs.readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => NodePath.join(folder, entry.name))
  )
}

/** The KeyAdded event's ciphertext and owner: what the append-only log keeps forever. */
const storedCiphertext = (keyId: string) =>
  server.run(
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) => sql<{ data: string }>`SELECT data FROM events WHERE type = 'KeyAdded' AND stream_id = ${`key-${keyId}`}`
    ).pipe(
      Effect.map((rows) => JSON.parse(rows[0]?.data ?? "{}") as { ciphertext: string; userId: string }),
      Effect.orDie
    )
  )

const openKey = (keyId: string, userId: string, ciphertext: string) =>
  server.run(
    Effect.flatMap(KeyVault, (vault) => Effect.either(vault.open(keyId, userId, ciphertext))).pipe(
      Effect.map(Either.map(Redacted.value))
    )
  )

describe("secrets at rest", () => {
  it("the database file, its WAL and the logs hold no key, password, API token or JWT", async () => {
    const password = "First-Secret-Passw0rd!"
    const email = "secrets@example.com"
    const registered = await api.request("POST", "/api/auth/register", {
      json: { email, password, password_confirm: password }
    })
    expect(registered.status).toBe(201)
    const wrong = "Wrong-Guess-Passw0rd!"
    expect((await api.request("POST", "/api/auth/login", { json: { email, password: wrong } })).status).toBe(401)
    const jwt = (await api.request("POST", "/api/auth/login", { json: { email, password } })).body.access_token
    const key = server.sim.addKey({ usage: { total: 3 } })
    const keyId = await api.addKey(jwt, key, "secret key")
    const kept = server.sim.addKey()
    await api.addKey(jwt, kept, "kept key")
    expect((await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: jwt })).body.outcome).toBe("ok")
    const { token } = await api.apiToken(jwt)
    expect((await api.request("GET", "/api/v1/stats", { bearer: token })).status).toBe(200)
    expect((await api.request("GET", "/api/keys", { bearer: token })).status).toBe(401)
    const next = "Second-Secret-Passw0rd!"
    const changed = await api.request("PUT", "/api/users/me/password", {
      bearer: jwt,
      json: { current_password: password, new_password: next, new_password_confirm: next }
    })
    const jwt2 = changed.body.access_token
    const rejected = await api.request("POST", "/api/keys", {
      bearer: jwt2,
      json: { name: "bad", key: `sk-or-v1-${"Z".repeat(64)}` }
    })
    expect(rejected.status).toBe(400)
    expect((await api.request("DELETE", `/api/keys/${keyId}`, { bearer: jwt2 })).status).toBe(204)

    const secrets = {
      key,
      keyHex: key.slice("sk-or-v1-".length),
      keptKey: kept,
      rejectedKey: "Z".repeat(64),
      password,
      next,
      wrong,
      token,
      tokenBody: token.slice("or_api_".length),
      jwt,
      jwt2,
      jwtSignature: jwt.split(".")[2] as string
    }
    const files =
      server.database._tag === "Sqlite"
        ? [server.databaseFile, `${server.databaseFile}-wal`].filter((f) => NodeFs.existsSync(f))
        : await postgresFiles()
    expect(files.length).toBeGreaterThan(0)
    const haystacks = {
      ...Object.fromEntries(files.map((f) => [f, NodeFs.readFileSync(f).toString("latin1")])),
      ...(server.database._tag === "Postgres" ? { "every table": await everyTableAsText() } : {}),
      logs: server.logs.join("\n")
    }
    expect(server.logs.some((line) => line.includes("POST /api/keys"))).toBe(true)
    for (const [where, text] of Object.entries(haystacks)) {
      for (const [name, secret] of Object.entries(secrets)) {
        expect(text.includes(secret), `${name} found in ${where}`).toBe(false)
      }
    }
  })

  it("after DeleteKey the ciphertext left in the log can no longer be decrypted (KeyShredded)", async () => {
    const { jwt } = await api.user()
    const plaintext = server.sim.addKey()
    const keyId = await api.addKey(jwt, plaintext)
    const { ciphertext, userId } = await storedCiphertext(keyId)
    expect(ciphertext).toMatch(/^v1\./)
    expect(await openKey(keyId, userId, ciphertext)).toEqual(Either.right(plaintext))
    expect((await api.request("DELETE", `/api/keys/${keyId}`, { bearer: jwt })).status).toBe(204)
    const after = await openKey(keyId, userId, ciphertext)
    expect(Either.isLeft(after) && after.left._tag).toBe("KeyShredded")
  })

  it("deleting the account shreds every key of it", async () => {
    const { jwt, password } = await api.user()
    const keyId = await api.addKey(jwt)
    const { ciphertext, userId } = await storedCiphertext(keyId)
    expect(Either.isRight(await openKey(keyId, userId, ciphertext))).toBe(true)
    expect((await api.request("DELETE", "/api/users/me", { bearer: jwt, json: { password } })).status).toBe(204)
    const after = await openKey(keyId, userId, ciphertext)
    expect(Either.isLeft(after) && after.left._tag).toBe("KeyShredded")
  })
})
