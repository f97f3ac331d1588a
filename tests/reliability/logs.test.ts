import { afterEach, expect, it } from "vitest"
import { request, type ServerProcess, spawnServer, tempDir, waitForOutput, waitForPort } from "./support/process.js"

const SECRET_KEY = "jwt-signing-secret-0123456789-abcdefghij"
const ENCRYPTION_KEY = "f".repeat(64)
const PASSWORD = "Correct-horse-9!"
let server: ServerProcess | undefined

afterEach(async () => {
  server?.child.kill("SIGKILL")
  await server?.exited
})

const stop = async (s: ServerProcess) => {
  s.child.kill("SIGTERM")
  expect(await s.exited).toEqual({ code: 0, signal: null })
  return s.output()
}

it("in production every log line is a JSON object with time, level, message and request_id; no secret in them", async () => {
  server = await spawnServer(tempDir("orw-logs-"), { NODE_ENV: "production", SECRET_KEY, ENCRYPTION_KEY })
  await waitForOutput(server, /Listening on/)
  const body = JSON.stringify({ email: "logs@example.com", password: PASSWORD, password_confirm: PASSWORD })
  const post = { method: "POST", headers: { "content-type": "application/json" }, body }
  expect(await request(`${server.url}/api/auth/register`, post, 10_000)).toMatchObject({ status: 201 })
  expect(await request(`${server.url}/healthz`)).toMatchObject({ status: 200 })
  const output = await stop(server)

  const lines = output.split("\n").filter((line) => line.trim() !== "")
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  for (const line of parsed) {
    expect(typeof line.time).toBe("string")
    expect(Number.isNaN(Date.parse(String(line.time)))).toBe(false)
    expect(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]).toContain(line.level)
    expect(typeof line.message).toBe("string")
  }
  const access = parsed.filter((line) => String(line.message).startsWith("POST /api/auth/register 201"))
  expect(access).toHaveLength(1)
  expect(access[0]?.request_id).toMatch(/^[0-9a-f-]{36}$/)
  // Every loopback address is one client (the rate limits' rule since issue 13), and logged as such.
  expect(access[0]?.client_ip).toBe("loopback")
  expect(parsed.some((line) => String(line.message).startsWith("Shutting down"))).toBe(true)
  for (const secret of [SECRET_KEY, ENCRYPTION_KEY, PASSWORD]) expect(output).not.toContain(secret)
})

it("in development the lines are readable text (logfmt into a pipe) and LOG_LEVEL is honoured", async () => {
  server = await spawnServer(tempDir("orw-logs-"), { LOG_LEVEL: "WARNING" })
  // The generated development secrets are announced with a warning; the access log (INFO) is not kept.
  await waitForOutput(server, /level=WARN/)
  expect(await waitForPort(server.url)).toMatchObject({ kind: "answer" })
  const output = await stop(server)
  const lines = output.split("\n").filter((line) => line.trim() !== "")
  expect(lines.length).toBeGreaterThan(0)
  for (const line of lines) {
    expect(line).toMatch(/^timestamp=\S+ level=(WARN|ERROR|FATAL) /)
    expect(() => JSON.parse(line)).toThrow()
  }
  expect(output).not.toContain("GET /healthz")
})
