import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { expect, it } from "@effect/vitest"
import { hold, lockFileOf } from "@orw/server/ServerLock"
import { Effect, Layer } from "effect"

const root = NodePath.resolve(import.meta.dirname, "../..")

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = NodeNet.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as NodeNet.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Starts `demo.ts` and resolves with the URL and login it prints. */
const startDemo = (port: number, dir: string) =>
  new Promise<{ child: ChildProcess; url: string; email: string; password: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "packages/server/src/demo.ts"], {
      cwd: root,
      env: { ...process.env, PORT: String(port), DEMO_DIR: dir, SYNC_INTERVAL_MINUTES: "0.05", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${out}`)), 60_000)
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const url = /running at (http:\/\/\S+)/.exec(out)?.[1]
      const login = /log in as (\S+) \/ (\S+)/.exec(out)
      if (url && login) {
        clearTimeout(timer)
        resolve({ child, url, email: login[1]!, password: login[2]! })
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("exit", (code) => reject(new Error(`demo exited (${code}): ${out}`)))
  })

const totalSpend = async (url: string, jwt: string) => {
  const response = await fetch(`${url}/api/keys`, { headers: { authorization: `Bearer ${jwt}` } })
  const body = (await response.json()) as { items: Array<{ usage_total: number | null; is_management_key: boolean }> }
  return body.items
}

it.live(
  "pnpm demo: a demo account with several keys, a year of usage, and numbers that keep growing",
  () =>
    Effect.promise(async () => {
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-demo-"))
      const demo = await startDemo(await freePort(), dir)
      try {
        const login = await fetch(`${demo.url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: demo.email, password: demo.password })
        })
        expect(login.status).toBe(200)
        const { access_token: jwt } = (await login.json()) as { access_token: string }
        const deadline = Date.now() + 45_000
        let keys = await totalSpend(demo.url, jwt)
        while (keys.some((k) => k.usage_total === null) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500))
          keys = await totalSpend(demo.url, jwt)
        }
        expect(keys.length).toBeGreaterThanOrEqual(4)
        expect(keys.filter((k) => k.is_management_key)).toHaveLength(1)
        const first = keys.reduce((sum, k) => sum + (k.usage_total ?? 0), 0)
        expect(first).toBeGreaterThan(0)
        let later = first
        while (later <= first && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 1000))
          later = (await totalSpend(demo.url, jwt)).reduce((sum, k) => sum + (k.usage_total ?? 0), 0)
        }
        expect(later).toBeGreaterThan(first)
        // The demo's account budget is already above its thresholds once the sync has run: it fired.
        // The figures come through the sync alone (the year, then activity, then today), so wait for them.
        const monthAlert = async () => {
          const alerts = await fetch(`${demo.url}/api/alerts`, { headers: { authorization: `Bearer ${jwt}` } })
          const fired = ((await alerts.json()) as { items: Array<{ kind: string; budget_id: string | null }> }).items
          return fired.some((a) => a.kind === "threshold" && a.budget_id === "demo-budget-month")
        }
        let alerted = await monthAlert()
        while (!alerted && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500))
          alerted = await monthAlert()
        }
        expect(alerted).toBe(true)
        // A year of history reaches the read tables (activity for 30 days, analytics for the rest), through the
        // sync alone: the seed records no figures.
        const Sqlite = (await import("node:module")).createRequire(NodePath.join(root, "packages/server/package.json"))(
          "better-sqlite3"
        ) as new (
          file: string,
          options: { readonly: boolean }
        ) => { prepare(sql: string): { get(): unknown }; close(): void }
        const recordedDays = () => {
          const db = new Sqlite(NodePath.join(dir, "demo.db"), { readonly: true })
          const days = db.prepare("SELECT COUNT(DISTINCT date) AS n FROM usage_stats").get() as { n: number }
          db.close()
          return days.n
        }
        while (recordedDays() < 360 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500))
        expect(recordedDays()).toBeGreaterThanOrEqual(360)
        // A second demo on the same folder refuses to start and leaves the open database alone.
        const second = await startDemo(await freePort(), dir).then(
          () => "started",
          (error: Error) => error.message
        )
        expect(second).toContain("Another demo")
        expect(recordedDays()).toBeGreaterThanOrEqual(360)
      } finally {
        demo.child.kill("SIGINT")
      }
    }),
  120_000
)

it.scopedLive(
  "restarting the demo never deletes a database an orw server holds (its server.lock), demo or not",
  () =>
    Effect.gen(function* () {
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-demo-held-"))
      const database = NodePath.join(dir, "demo.db")
      NodeFs.writeFileSync(database, "a database in use")
      // What a server started with DATABASE_URL at this file holds while it runs (an OS lock, another process).
      yield* Layer.build(hold(lockFileOf(database)))
      const port = yield* Effect.promise(freePort)
      const outcome = yield* Effect.promise(() =>
        startDemo(port, dir).then(
          (demo) => {
            demo.child.kill("SIGINT")
            return "started"
          },
          (error: Error) => error.message
        )
      )
      expect(outcome).toContain("A running orw server holds")
      expect(NodeFs.readFileSync(database, "utf8")).toBe("a database in use")
    }),
  90_000
)
