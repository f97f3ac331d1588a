/**
 * The OpenRouter simulator in a process of its own, so a benchmark measures the sync's work and not the
 * simulator's (in one process they share one event loop). Driven over IPC by {@link startSimulatorProcess}:
 * the parent sends the account (keys, latency), the child answers its URL, then request counts on demand.
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"

export interface SimulatedAccount {
  /** Key strings; the first is the management key when `management`. */
  readonly keys: ReadonlyArray<string>
  readonly management: boolean
  readonly latencyMs: number
  readonly analyticsPerMinute: number
}

type Request =
  | { readonly type: "start"; readonly account: SimulatedAccount }
  | { readonly type: "counts"; readonly id: number }
type Reply =
  | { readonly type: "started"; readonly url: string }
  | { readonly type: "counts"; readonly id: number; readonly counts: Record<string, number> }

export interface SimulatorProcess {
  readonly url: string
  /** Requests received so far, by endpoint. */
  readonly counts: () => Promise<Record<string, number>>
  readonly close: () => Promise<void>
}

const TIMEOUT_MS = 60_000

/** Forks this file as the simulator's process and starts it on a free loopback port with `account`. */
export const startSimulatorProcess = (account: SimulatedAccount): Promise<SimulatorProcess> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = fork(fileURLToPath(import.meta.url), ["--child"], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error("the simulator process did not start"))
    }, TIMEOUT_MS)
    const waiting = new Map<number, (counts: Record<string, number>) => void>()
    let next = 0
    child.on("message", (message: Reply) => {
      if (message.type === "started") {
        clearTimeout(timer)
        resolve({
          url: message.url,
          counts: () =>
            new Promise((done) => {
              const id = next++
              waiting.set(id, done)
              child.send({ type: "counts", id } satisfies Request)
            }),
          close: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done()
              child.once("exit", () => done())
              child.kill("SIGTERM")
            })
        })
      } else {
        waiting.get(message.id)?.(message.counts)
        waiting.delete(message.id)
      }
    })
    child.once("error", reject)
    child.send({ type: "start", account } satisfies Request)
  })

const child = async () => {
  const { Fault, Simulator } = await import("@orw/server/OpenRouter/Simulator")
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)
  process.on("message", async (message: Request) => {
    if (message.type === "start") {
      const { account } = message
      const sim = new Simulator({ analyticsPerMinute: account.analyticsPerMinute })
      for (const [i, key] of account.keys.entries()) {
        if (i === 0 && account.management) {
          sim.addKey({ key, isManagementKey: true })
          continue
        }
        sim.addKey({ key, name: `key ${i}`, usage: { total: 1 } })
        sim.addUsage(key, (i + 1) / 1000, { date: yesterday, model: "openai/gpt-4.1", requests: 1 })
      }
      sim.fail("*", Fault.latency(account.latencyMs), Number.POSITIVE_INFINITY)
      const running = await sim.start()
      process.on("message", (m: Request) => {
        if (m.type !== "counts") return
        const counts: Record<string, number> = {}
        for (const r of sim.requests) counts[r.endpoint] = (counts[r.endpoint] ?? 0) + 1
        process.send?.({ type: "counts", id: m.id, counts } satisfies Reply)
      })
      process.once("SIGTERM", () => void running.close().then(() => process.exit(0)))
      process.send?.({ type: "started", url: running.url } satisfies Reply)
    }
  })
}

if (process.argv.includes("--child")) void child()
