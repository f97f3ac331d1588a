import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import { afterAll, expect, it } from "vitest"
import { openSqlite } from "../cli/fixture.js"
import { type Outcome, request, type ServerProcess, spawnServer, tempDir, waitForOutput } from "./support/process.js"

const PASSWORD = "Correct-horse-9!"
const KEY = `sk-or-v1-${"c".repeat(64)}`
const sockets = new Set<NodeNet.Socket>()
/** An upstream that accepts connections and never answers: a sync against it runs until interrupted. */
const silent = NodeNet.createServer((socket) => {
  sockets.add(socket)
  socket.on("error", () => {})
})
let server: ServerProcess | undefined

afterAll(async () => {
  server?.child.kill("SIGKILL")
  for (const socket of sockets) socket.destroy()
  await new Promise((resolve) => silent.close(resolve))
})

const json = (body: unknown, token?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  body: JSON.stringify(body)
})

const answer = (outcome: Outcome) => {
  if (outcome.kind !== "answer") throw new Error(`expected an answer, got ${JSON.stringify(outcome)}`)
  return outcome
}

it("SIGTERM under load: every request gets a whole answer (503 once draining) or a refused connection, a running sync 503, exit 0 within 15 s", async () => {
  await new Promise<void>((resolve) => silent.listen({ host: "127.0.0.1", port: 0 }, resolve))
  const address = silent.address()
  const upstream = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/api/v1`
  const dir = tempDir("orw-shutdown-")
  server = await spawnServer(dir, { OPENROUTER_API_URL: upstream, AUTH_RATE_LIMIT_PER_MINUTE: "1000" })
  await waitForOutput(server, /Listening on/)
  const { url } = server

  const credentials = { email: "load@example.com", password: PASSWORD }
  answer(await request(`${url}/api/auth/register`, json({ ...credentials, password_confirm: PASSWORD }), 10_000))
  const login = answer(await request(`${url}/api/auth/login`, json(credentials), 10_000))
  const jwt = (JSON.parse(login.body) as { access_token: string }).access_token
  const added = answer(await request(`${url}/api/keys`, json({ name: "load", key: KEY }, jwt), 10_000))
  expect(added.status).toBe(201)
  const keyId = (JSON.parse(added.body) as { id: string }).id
  const auth = { authorization: `Bearer ${jwt}` }

  // A manual sync that hangs on the silent upstream: in flight when SIGTERM arrives.
  const sync = request(`${url}/api/keys/${keyId}/sync`, { method: "POST", headers: auth }, 14_000)

  const outcomes: Array<Outcome> = []
  let sent = 0
  let signalled: number | undefined
  const target = [
    () => request(`${url}/api/keys`, { headers: auth }),
    () => request(`${url}/api/keys/${keyId}`, { ...json({ name: `n${sent}` }, jwt), method: "PUT" }),
    () => request(`${url}/healthz`),
    () => request(`${url}/metrics`)
  ]
  const worker = async (offset: number) => {
    // Bounded: each worker stops at its first refused connection, or after 3,000 requests.
    for (let i = 0; i < 3_000; i++) {
      const outcome = await (target[(i + offset) % target.length] ?? target[0]!)()
      sent++
      outcomes.push(outcome)
      if (sent === 40 && signalled === undefined) {
        signalled = performance.now()
        server?.child.kill("SIGTERM")
      }
      // A draining server answers new requests 503 "shutting down" (Connection: close); a client, like a
      // load balancer, then goes elsewhere. Stopping here leaves no client racing the final close.
      if (outcome.kind === "refused") return
      if (outcome.kind === "answer" && outcome.status === 503) return
    }
  }
  await Promise.all([0, 1, 2, 3].map(worker))
  const exit = await server.exited
  const elapsed = performance.now() - (signalled ?? 0)

  expect(signalled).toBeDefined()
  expect(outcomes.filter((o) => o.kind === "failed")).toEqual([])
  const answers = outcomes.flatMap((o) => (o.kind === "answer" ? [o] : []))
  expect(answers.length).toBeGreaterThanOrEqual(40)
  // Nothing fails on the way down: the usual answers, or 503 with a detail from a draining server.
  for (const a of answers) {
    expect(a.status < 500 || a.status === 503).toBe(true)
    if (a.status === 503) expect(JSON.parse(a.body)).toHaveProperty("detail")
  }
  expect(answers.filter((a) => a.status === 503).length + outcomes.filter((o) => o.kind === "refused").length).toBe(4)
  // Once the server is gone, the port refuses.
  expect((await request(`${url}/healthz`)).kind).toBe("refused")

  const synced = answer(await sync)
  expect(synced.status).toBe(503)
  expect(JSON.parse(synced.body)).toEqual({ detail: expect.stringContaining("shutting down") })

  expect(exit).toEqual({ code: 0, signal: null })
  expect(elapsed).toBeLessThan(15_000)
  expect(server.output()).not.toMatch(/level=(ERROR|FATAL)/)
  // The database was closed cleanly: the WAL checkpointed into the file and truncated (it is checked before
  // this test opens the file, which would make a WAL of its own).
  const wal = NodePath.join(dir, "app.db-wal")
  expect(NodeFs.existsSync(wal) ? NodeFs.statSync(wal).size : 0).toBe(0)
  const db = openSqlite(NodePath.join(dir, "app.db"))
  const [row] = db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'KeyRenamed'").all()
  db.close()
  expect(Number(row?.n)).toBeGreaterThan(0)
}, 90_000)
