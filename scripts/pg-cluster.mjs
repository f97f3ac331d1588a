#!/usr/bin/env node
// A throwaway PostgreSQL cluster for tests, CI and benchmarks, from Debian's server binaries:
//
//   node scripts/pg-cluster.mjs start [--fast]   prints `<dir> <url>` (one line) once it accepts connections
//   node scripts/pg-cluster.mjs stop <dir>       stops it and removes the folder
//
// initdb and postgres refuse to run as root, so as root they run as the `postgres` system user on a
// folder it owns. The cluster listens on 127.0.0.1 only, on a free port, with trust authentication
// (loopback, throwaway). `--fast` turns fsync off: for test suites, never for benchmarks.
// Also usable as a module (vitest globalSetup, benches): `start()` and `stop(dir)`.
import { spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

const BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin"
const asRoot = process.getuid?.() === 0

const run = (tool, args) => {
  const command = asRoot ? "runuser" : NodePath.join(BIN, tool)
  const full = asRoot ? ["-u", "postgres", "--", NodePath.join(BIN, tool), ...args] : args
  const result = spawnSync(command, full, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 })
  if (result.status !== 0) {
    throw new Error(`${tool} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`)
  }
  return result.stdout
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = NodeNet.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** Creates, starts and waits for a cluster; returns its folder and a superuser URL on 127.0.0.1. */
export const start = async ({ fast = false } = {}) => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-pg-"))
  try {
    NodeFs.chmodSync(dir, 0o755)
    if (asRoot) spawnSync("chown", ["postgres:postgres", dir])
    const data = NodePath.join(dir, "data")
    // C collation: ORDER BY on text compares bytes, as SQLite does (the API's orders stay byte-identical).
    run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
    const port = await freePort()
    const options = [
      "-c listen_addresses=127.0.0.1",
      `-p ${port}`,
      `-k ${dir}`,
      "-c max_connections=200",
      ...(fast ? ["-c fsync=off", "-c full_page_writes=off"] : [])
    ].join(" ")
    // -w: pg_ctl returns once the server accepts connections (its own readiness signal, no polling here).
    run("pg_ctl", ["-D", data, "-l", NodePath.join(dir, "postgres.log"), "-o", options, "-w", "-t", "60", "start"])
    return { dir, url: `postgres://postgres@127.0.0.1:${port}/postgres` }
  } catch (error) {
    NodeFs.rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** Stops the cluster in `dir` (fast shutdown) and removes the folder; a cluster already gone is fine. */
export const stop = (dir) => {
  const data = NodePath.join(dir, "data")
  try {
    if (NodeFs.existsSync(NodePath.join(data, "postmaster.pid")))
      run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"])
  } finally {
    NodeFs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, arg] = process.argv.slice(2)
  if (command === "start") {
    const { dir, url } = await start({ fast: process.argv.includes("--fast") })
    console.log(`${dir} ${url}`)
  } else if (command === "stop" && arg !== undefined) {
    stop(arg)
  } else {
    console.error("usage: pg-cluster.mjs start [--fast] | stop <dir>")
    process.exit(2)
  }
}
