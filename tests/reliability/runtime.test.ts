import { spawn, spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { allProjections } from "@orw/server/Projections/index"
import { afterAll, expect, it } from "vitest"
import { ROOT } from "../../scripts/build.mjs"
import { freePort, request, tempDir } from "./support/process.js"

const NOBODY = 65534
const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => NodeFs.existsSync(path))
const root = typeof process.getuid === "function" && process.getuid() === 0
const DEV_ONLY = ["typescript", "vite", "esbuild", "tsx", "vitest", "@biomejs", "effect", "@effect", "pnpm"]
let kill: (() => void) | undefined
afterAll(() => kill?.())

/** Runs as the unprivileged user: setpriv execs (no process in between), so signals reach the program itself. */
const asNobody = (args: ReadonlyArray<string>) => [
  "--reuid",
  String(NOBODY),
  "--regid",
  String(NOBODY),
  "--clear-groups",
  "--",
  ...args
]

it.runIf(root && setpriv !== undefined)(
  "the Docker runtime layout (scripts/package.mjs, as the Dockerfile runs it) serves as a non-root user, with orw",
  async () => {
    const app = tempDir("orw-image-")
    const built = spawnSync(process.execPath, [NodePath.join(ROOT, "scripts/package.mjs"), app], { encoding: "utf8" })
    expect(built.status, built.stderr).toBe(0)
    // Production dependencies only: no bundler, compiler or test runner, no Effect sources (they are bundled).
    const modules = NodeFs.readdirSync(NodePath.join(app, "node_modules"))
    for (const name of DEV_ONLY) expect(modules).not.toContain(name)
    expect(modules).toEqual(expect.arrayContaining(["better-sqlite3", "@node-rs", "swagger-ui-dist"]))
    // As in the image: /app is root's and readable, /data belongs to the user and is 0700.
    NodeFs.chmodSync(app, 0o755)
    const data = NodePath.join(tempDir("orw-image-data-"), "data")
    NodeFs.mkdirSync(data, { mode: 0o700 })
    NodeFs.chmodSync(NodePath.dirname(data), 0o755)
    NodeFs.chownSync(data, NOBODY, NOBODY)

    const port = await freePort()
    const env = {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: data,
      SECRET_KEY: "s".repeat(40),
      ENCRYPTION_KEY: "e".repeat(64)
    }
    const server = spawn(setpriv!, asNobody([process.execPath, "packages/server/dist/main.mjs"]), {
      cwd: app,
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    kill = () => server.kill("SIGKILL")
    let output = ""
    server.stdout.on("data", (chunk) => (output += chunk))
    server.stderr.on("data", (chunk) => (output += chunk))
    const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      server.stdout.on("data", () => output.includes("Listening on") && resolve())
      server.on("exit", () => reject(new Error(`server exited:\n${output}`)))
    })
    expect(await request(`http://127.0.0.1:${port}/healthz`, { headers: { host: "localhost" } })).toMatchObject({
      status: 200
    })
    const page = await request(`http://127.0.0.1:${port}/`, { headers: { host: "localhost" } })
    expect(page).toMatchObject({ status: 200 })
    expect(page.kind === "answer" && page.body).toContain("<html")
    expect(NodeFs.statSync(NodePath.join(data, "app.db")).uid).toBe(NOBODY)

    // `docker exec ... orw ...`: the CLI as the same user, beside the running server.
    const status = spawnSync(setpriv!, asNobody([NodePath.join(app, "bin/orw"), "projections", "status", "--json"]), {
      cwd: app,
      env,
      encoding: "utf8"
    })
    expect(status.stderr).toBe("")
    expect(status.status).toBe(0)
    expect(
      status.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).lag)
    ).toEqual(allProjections.map(() => 0))

    server.kill("SIGTERM")
    expect(await exited).toBe(0)
  },
  180_000
)
