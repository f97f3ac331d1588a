import { type ChildProcess, spawn } from "node:child_process"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"

export const root = NodePath.resolve(import.meta.dirname, "../../..")

/** A server process (`packages/server/src/main.ts` under `node --import tsx`, one process: SIGKILL hits it). */
export interface ServerProcess {
  readonly child: ChildProcess
  readonly output: () => string
  /** Resolves with the port once the server logs that it listens; rejects if it exits first. */
  readonly listening: Promise<number>
  /** Resolves with the exit code (null when killed) once it exits. */
  readonly exited: Promise<number | null>
}

/** A port free right now (the server is told it: PORT must be 1 to 65535). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = NodeNet.createServer()
    probe.once("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

export const spawnServer = (env: Record<string, string> & { readonly PORT: string }): ServerProcess => {
  const child = spawn(process.execPath, ["--import", "tsx", NodePath.join(root, "packages/server/src/main.ts")], {
    cwd: root,
    env: { ...process.env, HOST: "127.0.0.1", LOG_LEVEL: "Info", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const listening = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const match = /Listening on http:\/\/[^:]+:(\d+)/.exec(output)
      if (match) resolve(Number(match[1]))
    }
    child.stdout?.on("data", onData)
    child.stderr?.on("data", onData)
    exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${output}`)))
  })
  listening.catch(() => {})
  return { child, output: () => output, listening, exited }
}
