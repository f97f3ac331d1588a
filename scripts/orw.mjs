#!/usr/bin/env node
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
// `pnpm orw ...`: runs the orw command line from one bundled file. Loading the TypeScript
// sources through a loader costs seconds of CPU per start; the bundle starts in a fraction
// of that. It is rebuilt (esbuild, about a second) whenever a source file is newer.
import { build } from "esbuild"

const root = fileURLToPath(new URL("..", import.meta.url))
const bundle = NodePath.join(root, "packages/cli/dist/orw.mjs")
const sources = ["packages/domain/src", "packages/server/src", "packages/cli/src"].map((dir) =>
  NodePath.join(root, dir)
)

const newestSource = (dir) => {
  let newest = 0
  for (const entry of NodeFs.readdirSync(dir, { withFileTypes: true })) {
    const path = NodePath.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : NodeFs.statSync(path).mtimeMs)
  }
  return newest
}

const stale = () => {
  if (!NodeFs.existsSync(bundle)) return true
  const built = NodeFs.statSync(bundle).mtimeMs
  return sources.some((dir) => newestSource(dir) > built)
}

if (stale()) {
  const result = await build({
    entryPoints: [NodePath.join(root, "packages/cli/src/bin.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    // Native addons stay outside the bundle and load from node_modules.
    external: ["better-sqlite3", "@node-rs/argon2", "pg-native"],
    banner: {
      js: "import { createRequire as __orwRequire } from 'node:module'; const require = __orwRequire(import.meta.url);"
    },
    logLevel: "warning"
  })
  NodeFs.mkdirSync(NodePath.dirname(bundle), { recursive: true })
  // Write then rename: concurrent runs never see a half-written bundle.
  const temporary = `${bundle}.${process.pid}.tmp`
  NodeFs.writeFileSync(temporary, result.outputFiles[0].contents)
  NodeFs.renameSync(temporary, bundle)
}

await import(pathToFileURL(bundle).href)
