// The production builds, each made only when its sources changed: the server and the CLI as
// single esbuild bundles (TypeScript is never loaded at run time), the web app with vite.
// Used by `npm start` (scripts/start.mjs), `pnpm orw` (scripts/orw.mjs), the Docker image and
// scripts/package.mjs. Staleness is by mtime: a bundle older than any of its sources (or the
// lockfile, for a dependency change) is rebuilt.
import { spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

export const ROOT = fileURLToPath(new URL("..", import.meta.url))
const at = (path) => NodePath.join(ROOT, path)

const newest = (path) => {
  if (!NodeFs.existsSync(path)) return 0
  const stat = NodeFs.statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  let max = stat.mtimeMs
  for (const entry of NodeFs.readdirSync(path)) max = Math.max(max, newest(NodePath.join(path, entry)))
  return max
}

const stale = (output, sources) =>
  !NodeFs.existsSync(output) || Math.max(...sources.map(at).map(newest)) > NodeFs.statSync(output).mtimeMs

const NODE_SOURCES = ["packages/domain/src", "packages/server/src", "pnpm-lock.yaml"]

/** The bundles: entry, output and what they are made from. */
export const BUNDLES = {
  server: { entry: "packages/server/src/main.ts", output: "packages/server/dist/main.mjs", sources: NODE_SOURCES },
  demo: { entry: "packages/server/src/demo.ts", output: "packages/server/dist/demo.mjs", sources: NODE_SOURCES },
  cli: {
    entry: "packages/cli/src/bin.ts",
    output: "packages/cli/dist/orw.mjs",
    sources: [...NODE_SOURCES, "packages/cli/src"]
  }
}

/**
 * Native addons (and files read from their package folder) stay outside the bundles, loaded from node_modules;
 * pg-native is an optional addon pg only tries to load (never installed here).
 */
export const EXTERNAL = ["better-sqlite3", "@node-rs/argon2", "swagger-ui-dist", "pg-native"]

/** Bundles `name` (a key of BUNDLES) when it is missing or older than a source; returns its absolute path. */
export const ensureBundle = async (name) => {
  const { entry, output, sources } = BUNDLES[name]
  const file = at(output)
  if (!stale(file, sources)) return file
  const { build } = await import("esbuild")
  const result = await build({
    entryPoints: [at(entry)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    external: EXTERNAL,
    banner: {
      js: "import { createRequire as __orwRequire } from 'node:module'; const require = __orwRequire(import.meta.url);"
    },
    logLevel: "warning"
  })
  NodeFs.mkdirSync(NodePath.dirname(file), { recursive: true })
  // Write then rename: concurrent runs never see a half-written bundle.
  const temporary = `${file}.${process.pid}.tmp`
  NodeFs.writeFileSync(temporary, result.outputFiles[0].contents)
  NodeFs.renameSync(temporary, file)
  return file
}

const WEB_SOURCES = [
  "packages/web/src",
  "packages/web/public",
  "packages/web/index.html",
  "packages/web/vite.config.ts",
  "packages/web/package.json",
  "packages/domain/src"
]

/** Runs `vite build` when packages/web/dist is missing or older than any of its sources. */
export const ensureWeb = () => {
  const index = at("packages/web/dist/index.html")
  if (!stale(index, WEB_SOURCES)) return
  console.error("Building the web app ...")
  const vite = at("packages/web/node_modules/vite/bin/vite.js")
  const run = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
    cwd: at("packages/web"),
    stdio: ["ignore", "inherit", "inherit"]
  })
  if (run.status !== 0) throw new Error("vite build failed")
  // vite keeps the files' own mtimes in some cases: mark the build as newer than its sources.
  const now = new Date()
  NodeFs.utimesSync(index, now, now)
}
