import { type ChildProcess, spawn } from "node:child_process"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Simulator } from "@orw/server/OpenRouter/Simulator"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { dropDatabase, freshDatabase } from "../../packages/server/test/support/Postgres.js"
import { client } from "../http/support/client.js"

const root = NodePath.resolve(import.meta.dirname, "../..")

/** A server process (packages/server/src/main.ts, as deployed) and what it printed. */
interface Instance {
  readonly name: string
  readonly child: ChildProcess
  readonly url: string
  /** Key ids this instance's background sync polled, in order (from its debug log lines). */
  readonly synced: Array<string>
  /** Resolves once this instance's background sync has polled `keyId` `times` times (default once). */
  readonly syncs: (keyId: string, times?: number) => Promise<void>
  readonly exited: Promise<void>
}

/** A port free on 127.0.0.1 now (PORT must be 1-65535: the server cannot be asked for an ephemeral one). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = NodeNet.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

const SYNC_LINE = /message="key sync[^"]*".*\bkeyId=(\S+)/

/** Starts an instance on `databaseUrl`; resolves once it logged its address (its own readiness signal). */
const startInstance = (name: string, env: Record<string, string>): Promise<Instance> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "packages/server/src/main.ts"], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const synced: Array<string> = []
    const waiters: Array<{ keyId: string; times: number; done: () => void }> = []
    const count = (keyId: string) => synced.filter((k) => k === keyId).length
    let buffer = ""
    let output = ""
    let started = false
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    child.stderr?.on("data", (chunk) => {
      output += chunk
    })
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split("\n")
      buffer = lines.pop() ?? ""
      for (const line of lines) {
        output += `${line}\n`
        const address = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
        if (address?.[1] !== undefined && !started) {
          started = true
          resolve({
            name,
            child,
            url: address[1],
            synced,
            exited,
            syncs: (keyId, times = 1) =>
              new Promise((done) => {
                if (count(keyId) >= times) done()
                else waiters.push({ keyId, times, done })
              })
          })
        }
        const sync = SYNC_LINE.exec(line)
        if (sync?.[1] !== undefined) {
          synced.push(sync[1])
          for (const w of waiters) if (w.keyId === sync[1] && count(w.keyId) >= w.times) w.done()
        }
      }
    })
    child.once("exit", (code, signal) => {
      if (!started) reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output}`))
    })
  })

describe("two server processes on one PostgreSQL database", () => {
  let database: string
  let sim: Simulator
  let simulator: { readonly url: string; readonly close: () => Promise<void> }
  let dir: string
  const instances: Array<Instance> = []

  beforeAll(async () => {
    database = (await freshDatabase()).url
    sim = new Simulator()
    simulator = await sim.start()
    dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-multi-"))
    const env = {
      DATABASE_URL: database,
      DATA_DIR: dir,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      SECRET_KEY: NodeCrypto.randomBytes(32).toString("hex"),
      ENCRYPTION_KEY: NodeCrypto.randomBytes(32).toString("hex"),
      OPENROUTER_API_URL: simulator.url,
      SYNC_INTERVAL_MINUTES: "0.05",
      SYNC_RECONCILE_MS: "300",
      SYNC_RETRY_BASE_MS: "5",
      MAX_API_KEYS_PER_USER: "10",
      AUTH_RATE_LIMIT_PER_MINUTE: "10000",
      RATE_LIMIT_REQUESTS: "10000",
      LOG_LEVEL: "debug"
    }
    // Started together on an empty database: one migrates, the other waits for the lock and finds it done.
    const [portA, portB] = [await freePort(), await freePort()]
    instances.push(
      ...(await Promise.all([
        startInstance("a", { ...env, PORT: String(portA) }),
        startInstance("b", { ...env, PORT: String(portB) })
      ]))
    )
  })

  afterAll(async () => {
    for (const instance of instances) {
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill("SIGTERM")
      await instance.exited
    }
    await simulator?.close()
    if (database !== undefined) await dropDatabase(database)
    if (dir !== undefined) NodeFs.rmSync(dir, { recursive: true, force: true })
  })

  const api = (i: number) => client(instances[i % 2]!.url)

  it("racing registrations of one email across both: exactly one 201", async () => {
    const password = "Race-Passw0rd-Aa1!"
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api(i).request("POST", "/api/auth/register", {
          json: { email: "race@example.com", password, password_confirm: password }
        })
      )
    )
    expect(answers.map((a) => a.status).sort()).toEqual([201, ...Array(9).fill(400)])
    for (const lost of answers.filter((a) => a.status === 400)) {
      expect(lost.body).toEqual({ detail: "Email already registered" })
    }
  })

  it("25 key adds across both: exactly MAX_API_KEYS_PER_USER (10) succeed; each key is polled by one instance; SIGKILL of one hands its keys to the other", async () => {
    const { jwt } = await api(0).user("keys")
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        api(i).request("POST", "/api/keys", { bearer: jwt, json: { name: `k${i}`, key: sim.addKey() } })
      )
    )
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10)
    expect(answers.filter((a) => a.status !== 201).map((a) => [a.status, a.body.detail])).toEqual(
      Array(15).fill([400, "Maximum number of API keys reached (10)"])
    )
    const listed = await api(1).request("GET", "/api/keys", { bearer: jwt })
    expect(listed.body.total).toBe(10)
    const keyIds: Array<string> = listed.body.items.map((k: { id: string }) => k.id)

    // Every key polled twice (two intervals), then: no key was polled by both instances.
    const pollers = (keyId: string) => instances.filter((instance) => instance.synced.includes(keyId))
    await Promise.all(keyIds.map((keyId) => Promise.race(instances.map((instance) => instance.syncs(keyId, 2)))))
    for (const keyId of keyIds) expect(pollers(keyId).map((i) => i.name)).toHaveLength(1)

    // SIGKILL the instance that polls the first key: the other takes its keys over.
    const victim = pollers(keyIds[0]!)[0]!
    const survivor = instances.find((i) => i !== victim)!
    const orphans = keyIds.filter((keyId) => pollers(keyId)[0] === victim)
    victim.child.kill("SIGKILL")
    await victim.exited
    await Promise.all(orphans.map((keyId) => survivor.syncs(keyId)))
    for (const keyId of keyIds) expect(survivor.synced).toContain(keyId)
    // The survivor serves what the victim wrote.
    expect((await client(survivor.url).request("GET", "/api/keys", { bearer: jwt })).body.total).toBe(10)
  })
})
