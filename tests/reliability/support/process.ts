import { type ChildProcess, spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { ensureBundle } from "../../../scripts/build.mjs"

/** A free loopback port (the kernel's choice, released for the server to take). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = NodeNet.createServer()
    probe.once("error", reject)
    probe.listen({ host: "127.0.0.1", port: 0 }, () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

export const tempDir = (prefix: string) => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), prefix))

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the process wrote, stdout and stderr. */
  readonly output: () => string
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

/**
 * The production server as `npm start` runs it: the esbuild bundle under plain `node`, in its own process,
 * on a free loopback port, with `dir` as DATA_DIR and working directory.
 */
export const spawnServer = async (dir: string, env: Record<string, string> = {}): Promise<ServerProcess> => {
  const bundle = await ensureBundle("server")
  const port = await freePort()
  const child = spawn(process.execPath, [bundle], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      DATA_DIR: dir,
      HOST: "127.0.0.1",
      PORT: String(port),
      SYNC_INTERVAL_MINUTES: "60",
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  )
  return { url: `http://127.0.0.1:${port}`, child, output: () => output, exited }
}

/** Resolves once `pattern` appears in the process's output (or rejects when it exits first). */
export const waitForOutput = (server: ServerProcess, pattern: RegExp): Promise<void> =>
  new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(server.output())) {
        cleanup()
        resolve()
      }
    }
    const onExit = () => {
      cleanup()
      reject(new Error(`server exited before ${pattern}:\n${server.output()}`))
    }
    const cleanup = () => {
      server.child.stdout?.off("data", check)
      server.child.stderr?.off("data", check)
      server.child.off("exit", onExit)
    }
    server.child.stdout?.on("data", check)
    server.child.stderr?.on("data", check)
    server.child.on("exit", onExit)
    check()
  })

/** The outcome of one request: a whole answer, or the connection refused; anything else is a failure. */
export type Outcome =
  | {
      readonly kind: "answer"
      readonly status: number
      readonly ms: number
      readonly body: string
      readonly headers: Headers
    }
  | { readonly kind: "refused" }
  | { readonly kind: "failed"; readonly error: string; readonly ms: number }

const codeOf = (error: unknown): string | undefined => {
  for (let e: unknown = error, depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    if ("code" in e && typeof e.code === "string") return e.code
    e = "cause" in e ? e.cause : undefined
  }
  return undefined
}

/** One request on a fresh connection (no keep-alive reuse), bounded by `timeoutMs`. */
export const request = async (url: string, init: RequestInit = {}, timeoutMs = 2_000): Promise<Outcome> => {
  const started = performance.now()
  try {
    const headers = new Headers(init.headers)
    headers.set("connection", "close")
    const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(timeoutMs) })
    const body = await response.text()
    return { kind: "answer", status: response.status, ms: performance.now() - started, body, headers: response.headers }
  } catch (error) {
    if (codeOf(error) === "ECONNREFUSED") return { kind: "refused" }
    return {
      kind: "failed",
      error: `${String(error)} (${codeOf(error) ?? "no code"})`,
      ms: performance.now() - started
    }
  }
}

/**
 * Resolves once the server's port accepts connections. For a server that logs nothing when it opens
 * (LOG_LEVEL=WARNING), there is no line to wait for: bounded polling, 25 ms apart, at most 10 s.
 */
export const waitForPort = async (url: string) => {
  for (let attempt = 0; attempt < 400; attempt++) {
    const outcome = await request(`${url}/healthz`)
    if (outcome.kind !== "refused") return outcome
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`${url} never opened`)
}
