import { spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("../../..", import.meta.url))
const WEB = NodePath.join(ROOT, "packages/web")
const DIST_INDEX = NodePath.join(WEB, "dist/index.html")
/** What the bundle is made from: the web package and the domain contracts it imports. */
const SOURCES = [
  "packages/web/src",
  "packages/web/public",
  "packages/web/index.html",
  "packages/web/vite.config.ts",
  "packages/web/package.json",
  "packages/domain/src"
].map((path) => NodePath.join(ROOT, path))

const newest = (path: string): number => {
  if (!NodeFs.existsSync(path)) return 0
  const stat = NodeFs.statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return NodeFs.readdirSync(path).reduce((max, entry) => Math.max(max, newest(NodePath.join(path, entry))), 0)
}

/** Runs `vite build` when packages/web/dist is missing or older than any of its sources. */
export const ensureWebBuild = (): void => {
  const built = NodeFs.existsSync(DIST_INDEX) ? NodeFs.statSync(DIST_INDEX).mtimeMs : 0
  if (built > Math.max(...SOURCES.map(newest))) return
  const vite = NodePath.join(WEB, "node_modules/vite/bin/vite.js")
  const run = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: WEB, encoding: "utf8" })
  if (run.status !== 0) throw new Error(`vite build failed:\n${run.stdout}\n${run.stderr}`)
}
