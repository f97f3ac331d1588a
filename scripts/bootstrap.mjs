#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a machine with only Node and npm: installs the
// pinned pnpm when missing, installs the workspace (compiling better-sqlite3 against the
// local Node headers), then hands over to the pnpm script named on the command line.
import { execSync, spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const PNPM = "12.4.2"
const script = process.argv[2]
const args = process.argv.slice(3)
const env = { ...process.env }
// Offline, node-gyp cannot download Node's headers; Debian's nodejs ships them under /usr.
if (env.npm_config_nodedir === undefined && existsSync("/usr/include/node/node.h")) env.npm_config_nodedir = "/usr"

const run = (command, commandArgs) => {
  const result = spawnSync(command, commandArgs, { stdio: "inherit", env })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const pnpmVersion = () => {
  try {
    return execSync("pnpm --version", { env, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim()
  } catch {
    return null
  }
}

// An install is skipped when it already ran after the last change of the lockfile or a package.json:
// a warm `npm start` then costs no pnpm process at all.
const root = fileURLToPath(new URL("..", import.meta.url))
const stamp = `${root}node_modules/.orw-installed`
const manifests = [
  "pnpm-lock.yaml",
  "pnpm-workspace.yaml",
  "package.json",
  ...["packages", "tests", "bench"].flatMap((dir) =>
    existsSync(root + dir)
      ? dir === "packages"
        ? readdirSync(root + dir).map((name) => `${dir}/${name}/package.json`)
        : [`${dir}/package.json`]
      : []
  )
].filter((path) => existsSync(root + path))
const installed =
  !env.CI && existsSync(stamp) && manifests.every((path) => statSync(root + path).mtimeMs <= statSync(stamp).mtimeMs)

if (!installed) {
  if (pnpmVersion() !== PNPM) {
    console.error(`Installing pnpm ${PNPM} ...`)
    run("npm", ["install", "--global", `pnpm@${PNPM}`])
  }
  run("pnpm", ["install", ...(env.CI ? ["--frozen-lockfile"] : [])])
}

// A failed native build leaves a silent install: check that better-sqlite3 loads.
const requireFromServer = createRequire(new URL("../packages/server/package.json", import.meta.url))
try {
  const Database = requireFromServer("better-sqlite3")
  new Database(":memory:").close()
} catch {
  console.error("better-sqlite3 did not build; rebuilding it ...")
  run("pnpm", ["rebuild", "better-sqlite3"])
}
if (!installed) writeFileSync(stamp, `${new Date().toISOString()}\n`)

// The browser tests use Debian's chromium: install it when we may (root with apt), as CI does.
if (script?.startsWith("test") && !existsSync("/usr/bin/chromium")) {
  const root = typeof process.getuid === "function" && process.getuid() === 0
  if (root && existsSync("/usr/bin/apt-get")) {
    console.error("Installing Debian's chromium for the browser tests ...")
    const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" }
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env: aptEnv })
    if (update.status === 0)
      spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env: aptEnv })
  }
  if (!existsSync("/usr/bin/chromium")) console.error("No /usr/bin/chromium: the browser tests will be skipped.")
}

// The server runs in this process (no pnpm, no shell between it and the terminal): Ctrl-C and
// SIGTERM reach it, and its clean exit is npm's.
if (script === "serve" || script === "demo:run") {
  process.argv = [process.argv[0], process.argv[1], script === "serve" ? "server" : "demo", ...args]
  await import("./start.mjs")
} else if (script) run("pnpm", ["run", script, ...args])
