import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { afterAll, expect, it } from "vitest"
import { freePort, type ServerProcess, spawnServer } from "./support/spawn.js"

const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-lock-"))
const started: Array<ServerProcess> = []
afterAll(() => {
  for (const server of started) if (server.child.exitCode === null) server.child.kill("SIGKILL")
  NodeFs.rmSync(dir, { recursive: true, force: true })
})

const start = async () => {
  const server = spawnServer({
    DATA_DIR: dir,
    PORT: String(await freePort()),
    SECRET_KEY: "s".repeat(64),
    ENCRYPTION_KEY: "e".repeat(64)
  })
  started.push(server)
  return server
}

/** Issue 13: two servers on one DATA_DIR both ran, each with its own rate limiter and sync fibers. */
it("a second server on the same DATA_DIR refuses in one line; a SIGKILL'd owner leaves no stale lock", async () => {
  const first = await start()
  await first.listening
  const second = await start()
  expect(await second.exited).toBe(1)
  const lines = second.output().trim().split("\n")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/Another orw server is running on this database \(.*server\.lock is locked\)/)
  // The first one is untouched: it still answers.
  const port = await first.listening
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)

  first.child.kill("SIGKILL")
  expect(await first.exited).toBe(null)
  const third = await start()
  const thirdPort = await third.listening
  expect((await fetch(`http://127.0.0.1:${thirdPort}/healthz`)).status).toBe(200)
  third.child.kill("SIGKILL")
  await third.exited
}, 90_000)
