import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import * as Core from "@orw/server/Core"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { Effect } from "effect"
import { afterAll, expect, it } from "vitest"
import { client } from "../http/support/client.js"
import { startReceiver } from "../support/receiver.js"

const root = NodePath.resolve(import.meta.dirname, "../..")
const children: Array<ChildProcess> = []
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = NodeNet.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as NodeNet.AddressInfo
      server.close(() => resolve(port))
    })
  })

const withoutDatabaseUrl = ({ DATABASE_URL: _url, ...rest }: NodeJS.ProcessEnv) => rest

/** The real server (`main.ts`) in its own process; resolves once it listens. `lines` waits for a log line. */
const startServerProcess = (env: Record<string, string>) =>
  new Promise<{ child: ChildProcess; waitForLine: (re: RegExp) => Promise<string> }>((resolve, reject) => {
    // `node --import tsx` keeps the server in this one process: SIGKILL must hit the process that delivers.
    const child = spawn(process.execPath, ["--import", "tsx", "packages/server/src/main.ts"], {
      cwd: root,
      env: { ...withoutDatabaseUrl(process.env), ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.push(child)
    let out = ""
    const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = []
    const check = () => {
      for (const w of [...waiters]) {
        const line = out.split("\n").find((l) => w.re.test(l))
        if (line !== undefined) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
    const waitForLine = (re: RegExp) =>
      new Promise<string>((res) => {
        waiters.push({ re, resolve: res })
        check()
      })
    const onData = (c: Buffer) => {
      out += c.toString()
      check()
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("exit", (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`server exited (${code}): ${out}`))
    })
    waitForLine(/Listening on/).then(() => resolve({ child, waitForLine }), reject)
  })

it("a SIGKILL of the server mid-retry, then a restart: the pending delivery is sent exactly once more", async () => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-webhook-crash-"))
  const sim = new Simulator()
  const simulator = await sim.start()
  const receiver = await startReceiver([500])
  const port = await freePort()
  const env = {
    PORT: String(port),
    DATA_DIR: dir,
    OPENROUTER_API_URL: simulator.url,
    NODE_ENV: "development",
    LOG_LEVEL: "INFO"
  }
  try {
    const first = await startServerProcess(env)
    const api = client(`http://127.0.0.1:${port}`)
    const user = await api.user("crash")
    const key = sim.addKey({ usage: { total: 1 } })
    const keyId = await api.addKey(user.jwt, key, "crash key")
    await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: user.jwt })
    const hook = await api.request("POST", "/api/webhooks", { bearer: user.jwt, json: { url: receiver.url } })
    expect(hook.status).toBe(201)
    await api.request("POST", "/api/budgets", {
      bearer: user.jwt,
      json: { scope: "key", key_id: keyId, amount: 10, period: "daily", thresholds: [100] }
    })
    sim.addUsage(key, 10)
    await api.request("POST", `/api/keys/${keyId}/sync`, { bearer: user.jwt })

    // The first attempt fails (500) and its retry is scheduled: kill -9 before it comes.
    await receiver.waitFor(1)
    await first.waitForLine(/Webhook delivery failed, will retry/)
    const killed = new Promise((resolve) => first.child.once("exit", resolve))
    first.child.kill("SIGKILL")
    await killed
    expect(receiver.received).toHaveLength(1)

    receiver.answer([200])
    const second = await startServerProcess(env)
    const delivered = await second.waitForLine(/Webhook delivered/)
    expect(receiver.received).toHaveLength(2)
    const [before, after] = receiver.received
    expect(after!.headers["x-orw-delivery"]).toBe(before!.headers["x-orw-delivery"])
    expect(delivered).toContain(String(before!.headers["x-orw-delivery"]))
    expect(after!.body).toBe(before!.body)
    const stopped = new Promise((resolve) => second.child.once("exit", resolve))
    second.child.kill("SIGTERM")
    await stopped

    // Delivered is final: the outbox and the worker, restarted once more, send nothing again.
    const third = await startServerProcess(env)
    const hooks = await api.request("GET", `/api/webhooks/${hook.body.id}/deliveries`, { bearer: user.jwt })
    expect(hooks.body.items).toHaveLength(1)
    expect(hooks.body.items[0]).toMatchObject({ status: "delivered", attempts: 2, last_status_code: 200 })
    const stoppedAgain = new Promise((resolve) => third.child.once("exit", resolve))
    third.child.kill("SIGTERM")
    await stoppedAgain
    const rows = await Effect.runPromise(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ n: number }>`SELECT COUNT(*) AS n FROM webhook_deliveries`
      ).pipe(Effect.provide(Core.layerFile(NodePath.join(dir, "app.db"))))
    )
    expect(Number(rows[0]?.n)).toBe(1)
    expect(receiver.received).toHaveLength(2)
  } finally {
    await receiver.close()
    await simulator.close()
    NodeFs.rmSync(dir, { recursive: true, force: true })
  }
}, 120_000)
