import * as NodePath from "node:path"
import { afterAll, expect, it } from "vitest"
import { openSqlite } from "../cli/fixture.js"
import { bigLog } from "./support/bigLog.js"
import { type Outcome, request, type ServerProcess, spawnServer, tempDir, waitForOutput } from "./support/process.js"

const EVENTS = 50_000
let server: ServerProcess | undefined

afterAll(async () => {
  server?.child.kill("SIGKILL")
  await server?.exited
})

it("a start that rebuilds 50,000 events answers every request within 2 s: /healthz 200, /readyz and the API 503", async () => {
  const dir = tempDir("orw-startup-")
  const file = NodePath.join(dir, "app.db")
  await bigLog(file, EVENTS)
  server = await spawnServer(dir)
  const { url } = server
  // The port opens before the rebuild starts: wait for it without sending requests to a closed port.
  await waitForOutput(server, /Rebuilding projection/)

  const seen: Array<{ path: string; outcome: Outcome }> = []
  let ready = false
  // Bounded: a rebuild that never ends fails the test rather than hanging it.
  for (let round = 0; round < 2_000 && !ready; round++) {
    for (const path of ["/healthz", "/api/keys", "/readyz"]) {
      const outcome = await request(`${url}${path}`)
      seen.push({ path, outcome })
      if (path === "/readyz" && outcome.kind === "answer" && outcome.status === 200) ready = true
    }
  }
  expect(ready).toBe(true)

  const failures = seen.filter((s) => s.outcome.kind !== "answer")
  expect(failures).toEqual([])
  const answers = seen.flatMap((s) => (s.outcome.kind === "answer" ? [{ path: s.path, ...s.outcome }] : []))
  expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2_000)
  for (const a of answers.filter((a) => a.path === "/healthz")) expect(a.status).toBe(200)
  // The API while starting: 503 with Retry-After and a detail; once served, the usual 401.
  const api = answers.filter((a) => a.path === "/api/keys")
  const starting = api.filter((a) => a.status === 503)
  expect(starting.length).toBeGreaterThan(0)
  for (const a of starting) {
    expect(a.headers.get("retry-after")).toMatch(/^\d+$/)
    expect(JSON.parse(a.body)).toEqual({ detail: expect.stringContaining("starting") })
  }
  expect(api.every((a) => a.status === 503 || a.status === 401)).toBe(true)
  expect(answers.filter((a) => a.path === "/readyz" && a.status === 503).length).toBeGreaterThan(0)

  // The rebuild finished with every event projected.
  const db = openSqlite(file)
  const checkpoints = db.prepare("SELECT position FROM projection_checkpoints").all()
  db.close()
  expect(checkpoints.map((c) => Number(c.position))).toEqual(checkpoints.map(() => EVENTS))
}, 180_000)
