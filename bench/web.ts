/**
 * The web app's figures (issue 14):
 * - `web.bundle`: the gzipped size (level 9) of every JS file the production build writes to
 *   packages/web/dist (all chunks), after the build (scripts/build.mjs `ensureWeb`, vite). Reference: the
 *   target bound, 120 KB (there is no floor to measure against).
 * (`web.chart` is in web-chart.ts.)
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as NodeZlib from "node:zlib"
import { benchDir, lowerIsBetter, type Row } from "./lib/results.js"

const ROOT = NodePath.dirname(benchDir)
const DIST = NodePath.join(ROOT, "packages", "web", "dist")

const build = async () => {
  const scripts = (await import(NodePath.join(ROOT, "scripts", "build.mjs"))) as { ensureWeb: () => void }
  scripts.ensureWeb()
}

const jsFiles = (dir: string): Array<string> =>
  NodeFs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = NodePath.join(dir, entry.name)
    if (entry.isDirectory()) return jsFiles(path)
    return /\.(m?js)$/.test(entry.name) ? [path] : []
  })

const bundle = async (): Promise<ReadonlyArray<Row>> => {
  await build()
  const files = jsFiles(DIST)
  if (files.length === 0) throw new Error(`no JS in ${DIST}`)
  let raw = 0
  let gzipped = 0
  for (const file of files) {
    const bytes = NodeFs.readFileSync(file)
    raw += bytes.length
    gzipped += NodeZlib.gzipSync(bytes, { level: 9 }).length
  }
  const kb = gzipped / 1024
  console.log(`  ${files.length} JS files, ${(raw / 1024).toFixed(1)} KB raw, ${kb.toFixed(1)} KB gzipped`)
  return [
    lowerIsBetter({
      name: "web.bundle",
      value: kb,
      unit: "KB",
      reference: "the target bound",
      reference_value: 120,
      atMost: 120,
      note: `${files.length} JS files in packages/web/dist, ${(raw / 1024).toFixed(0)} KB before gzip (level 9)`
    })
  ]
}

export const benchmarks = [{ names: ["web.bundle"], run: bundle }]

/** Builds the web app when its sources changed (as `npm start` does). */
export { build }
