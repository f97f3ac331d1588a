import { afterAll, describe, expect, it } from "vitest"
import { dropDatabase, freshDatabase } from "../../packages/server/test/support/Postgres.js"
import { client } from "../http/support/client.js"
import { startServer, type TestServer } from "../http/support/server.js"
import { lines, orw } from "./fixture.js"

const started: Array<TestServer> = []
const databases: Array<string> = []
afterAll(async () => {
  for (const server of started) await server.close()
  for (const url of databases) await dropDatabase(url)
})

describe("orw migrate-to", () => {
  it("copies a SQLite database into an empty PostgreSQL one: the API answers byte-identically after", async () => {
    const sqlite = await startServer()
    started.push(sqlite)
    expect(sqlite.database._tag).toBe("Sqlite")
    const api = client(sqlite.url)
    const { jwt } = await api.user("migrate")
    const synced = await api.addKey(jwt, sqlite.sim.addKey({ usage: { total: 7 } }), "synced key")
    await api.addKey(jwt, sqlite.sim.addKey(), "idle key")
    expect((await api.request("POST", `/api/keys/${synced}/sync`, { bearer: jwt })).status).toBe(200)
    const { token } = await api.apiToken(jwt)
    const revoked = await api.apiToken(jwt, "revoked")
    expect((await api.request("DELETE", `/api/tokens/${revoked.id}`, { bearer: jwt })).status).toBe(204)

    const reads = [
      ["/api/v1/stats", token],
      ["/api/v1/usage?limit=1000", token],
      ["/api/v1/keys", token],
      ["/api/keys", jwt],
      ["/api/tokens", jwt]
    ] as const
    const answers = async (base: string) => {
      const c = client(base)
      const out: Array<string> = []
      for (const [path, bearer] of reads) {
        const answer = await c.request("GET", path, { bearer })
        out.push(`${path} ${answer.status} ${answer.text}`)
      }
      return out
    }
    const before = await answers(sqlite.url)
    expect(before.every((line) => / 200 /.test(line))).toBe(true)

    const target = await freshDatabase()
    databases.push(target.url)
    const copied = await orw(["migrate-to", target.url], { DATABASE_URL: sqlite.databaseFile })
    // Log lines of the rebuild go to stderr (never mixed into stdout); no error among them.
    expect(lines(copied.stderr).filter((line) => !line.startsWith("timestamp="))).toEqual([])
    expect(copied.code).toBe(0)
    // The report on stdout, and nothing else there.
    const out = lines(copied.stdout)
    expect(out.filter((line) => line.startsWith("timestamp="))).toEqual([])
    expect(out[0]).toMatch(/^Copied \d+ event\(s\) in \d+ stream\(s\); every stream's digest matches the source$/)
    expect(out[1]).toMatch(/^Log digest [0-9a-f]{64}$/)
    expect(out).toContain("  key_vault: 2 row(s)")
    expect(copied.stdout + copied.stderr).not.toContain(new URL(target.url).host)

    // Into a database that is no longer empty: refused, nothing copied twice.
    const again = await orw(["migrate-to", target.url], { DATABASE_URL: sqlite.databaseFile })
    expect(again.code).not.toBe(0)
    expect(again.stderr).toMatch(/not empty/)

    const pg = await startServer({ database: target.database })
    started.push(pg)
    expect(await answers(pg.url)).toEqual(before)
  })
})
