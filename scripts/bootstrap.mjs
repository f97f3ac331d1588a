#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a machine with only Node and npm: installs the
// pinned pnpm when missing, installs the workspace (compiling better-sqlite3 against the
// local Node headers), then hands over to the pnpm script named on the command line.
import { execSync, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"

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

if (pnpmVersion() !== PNPM) {
  console.error(`Installing pnpm ${PNPM} ...`)
  run("npm", ["install", "--global", `pnpm@${PNPM}`])
}
run("pnpm", ["install", ...(env.CI ? ["--frozen-lockfile"] : [])])

// A failed native build leaves a silent install: check that better-sqlite3 loads.
const requireFromServer = createRequire(new URL("../packages/server/package.json", import.meta.url))
try {
  const Database = requireFromServer("better-sqlite3")
  new Database(":memory:").close()
} catch {
  console.error("better-sqlite3 did not build; rebuilding it ...")
  run("pnpm", ["rebuild", "better-sqlite3"])
}

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

if (script) run("pnpm", ["run", script, ...args])
