/**
 * `start.warm` (issue 14): `npm start` (scripts/bootstrap.mjs → scripts/start.mjs → the esbuild bundle) to
 * the first 200 on /healthz, with the bundle and the web build already fresh (built once before), on a
 * temp DATA_DIR and a free loopback port; then the idle RSS of the serving process (VmRSS, 3 s after the
 * first 200). Reference for both: a bare `node -e` node:http server started and measured the same way.
 * Medians of 3 rounds; the process tree of each start is killed (its process group) after.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { benchDir, lowerIsBetter, type Row } from "./lib/results.js"

const ROOT = NodePath.dirname(benchDir)
const ROUNDS = 3
const READY_TIMEOUT_MS = 60_000
const IDLE_MS = 3_000

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = NodeNet.createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as NodeNet.AddressInfo
      probe.close(() => resolve(port))
    })
  })

const status = (port: number, path: string) =>
  new Promise<number>((resolve) => {
    const req = NodeHttp.get({ host: "127.0.0.1", port, path, timeout: 1_000 }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on("error", () => resolve(0))
    req.on("timeout", () => {
      req.destroy()
      resolve(0)
    })
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Milliseconds until `port` answers 200 on `path`, polled every 20 ms, at most READY_TIMEOUT_MS. */
const untilReady = async (port: number, path: string, child: ChildProcess, started: number) => {
  while (performance.now() - started < READY_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new Error(`the process exited (${child.exitCode}) before answering`)
    if ((await status(port, path)) === 200) return performance.now() - started
    await sleep(20)
  }
  throw new Error(`no 200 on ${path} within ${READY_TIMEOUT_MS} ms`)
}

/** The pids of `pid` and its descendants (from /proc). */
const tree = (pid: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of NodeFs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = NodeFs.readFileSync(`/proc/${entry}/stat`, "utf8")
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // gone meanwhile
    }
  }
  const all: Array<number> = []
  const visit = (p: number) => {
    all.push(p)
    for (const c of children.get(p) ?? []) visit(c)
  }
  visit(pid)
  return all
}

const rssMb = (pid: number) => {
  try {
    const line = NodeFs.readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m)
    return line ? Number(line[1]) / 1024 : 0
  } catch {
    return 0
  }
}

const cmdline = (pid: number) => {
  try {
    return NodeFs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")
  } catch {
    return ""
  }
}

const stop = async (child: ChildProcess) => {
  if (child.pid === undefined || child.exitCode !== null) return
  const closed = new Promise((resolve) => child.once("close", resolve))
  try {
    process.kill(-child.pid, "SIGTERM")
  } catch {
    return
  }
  const killed = await Promise.race([closed.then(() => true), sleep(15_000).then(() => false)])
  if (!killed) {
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {
      // already gone
    }
    await closed
  }
}

interface Start {
  readonly ms: number
  /** VmRSS of the process that serves. */
  readonly rss: number
  /** VmRSS summed over the whole process tree (npm and its shell included). */
  readonly treeRss: number
  readonly processes: number
}

/** Starts `command`, waits for its first 200, idles, measures, kills its process group. */
const measure = async (
  command: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  port: number,
  path: string,
  serving: (cmd: string) => boolean
): Promise<Start> => {
  const started = performance.now()
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "ignore"],
    detached: true
  })
  try {
    const ms = await untilReady(port, path, child, started)
    await sleep(IDLE_MS)
    const pids = tree(child.pid ?? -1)
    // The serving process: of those whose command line matches (the shell npm starts matches too), the largest.
    const matching = pids.filter((p) => serving(cmdline(p)))
    const server = matching.sort((a, b) => rssMb(b) - rssMb(a))[0] ?? child.pid ?? -1
    return {
      ms,
      rss: rssMb(server),
      treeRss: pids.reduce((sum, p) => sum + rssMb(p), 0),
      processes: pids.length
    }
  } finally {
    await stop(child)
  }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

const run = async (): Promise<ReadonlyArray<Row>> => {
  // Warm: the bundle and the web build made (when stale) before the clock starts.
  const build = (await import(NodePath.join(ROOT, "scripts", "build.mjs"))) as {
    ensureBundle: (name: string) => Promise<string>
    ensureWeb: () => void
  }
  await build.ensureBundle("server")
  build.ensureWeb()
  const starts: Array<Start> = []
  const bares: Array<Start> = []
  for (let round = 0; round < ROUNDS; round++) {
    const dataDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-bench-start-"))
    const port = await freePort()
    const env = {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      DATABASE_URL: NodePath.join(dataDir, "app.db"),
      // Loopback only: no key is stored, and nothing may leave the machine anyway.
      OPENROUTER_API_URL: "http://127.0.0.1:9/api/v1",
      LOG_LEVEL: "warning"
    }
    starts.push(await measure("npm", ["start"], env, port, "/healthz", (cmd) => cmd.includes("scripts/bootstrap.mjs")))
    NodeFs.rmSync(dataDir, { recursive: true, force: true })
    const barePort = await freePort()
    const bare = `require("node:http").createServer((q, s) => s.end("ok")).listen(${barePort}, "127.0.0.1")`
    bares.push(await measure(process.execPath, ["-e", bare], {}, barePort, "/", () => true))
  }
  for (const s of starts)
    console.log(
      `  npm start: ${s.ms.toFixed(0)} ms to 200, server ${s.rss.toFixed(0)} MB, tree ${s.treeRss.toFixed(0)} MB (${s.processes} processes)`
    )
  const ms = median(starts.map((s) => s.ms))
  const bareMs = median(bares.map((s) => s.ms))
  const rss = median(starts.map((s) => s.rss))
  const treeRss = median(starts.map((s) => s.treeRss))
  const bareRss = median(bares.map((s) => s.rss))
  const processes = median(starts.map((s) => s.processes))
  return [
    lowerIsBetter({
      name: "start.warm",
      value: ms / 1000,
      unit: "s",
      reference: "bare `node -e` node:http server, start to first 200",
      reference_value: bareMs / 1000,
      atMost: 3,
      note: `median of ${ROUNDS}; npm start → bootstrap → start.mjs → bundle, bundle and web build fresh`
    }),
    lowerIsBetter({
      name: "start.warm.rss",
      value: rss,
      unit: "MB",
      reference: "bare `node -e` node:http server, idle VmRSS",
      reference_value: bareRss,
      atMost: 160,
      note: `VmRSS of the serving process ${IDLE_MS / 1000} s after the first 200; whole tree (npm, sh, node: ${processes} processes) ${treeRss.toFixed(0)} MB`
    })
  ]
}

export const benchmarks = [{ names: ["start.warm", "start.warm.rss"], run }]
