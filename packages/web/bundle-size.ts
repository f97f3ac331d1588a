import * as NodeZlib from "node:zlib"
import type { Plugin } from "vite"

/** Sizes in kB (1000 bytes), as vite prints them. */
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`

/** Loaded by the entry only in browsers without URLPattern (see src/main.ts). */
const POLYFILL = /urlpattern-polyfill/

/**
 * Prints the gzipped size of the JavaScript at the end of `vite build`: all of it, and what every page loads
 * before any lazy route or chart: the entry, the app it imports (src/main.ts imports it dynamically, after the
 * polyfill check) and their static imports; the URLPattern polyfill only where the browser lacks URLPattern.
 * The budget is 120 kB gzipped.
 */
export const bundleSize = (budgetKb = 120): Plugin => ({
  name: "orw-bundle-size",
  apply: "build",
  generateBundle(_options, bundle) {
    const chunks = Object.values(bundle).flatMap((item) => (item.type === "chunk" ? [item] : []))
    const gzipped = new Map(chunks.map((c) => [c.fileName, NodeZlib.gzipSync(c.code, { level: 9 }).length]))
    const total = [...gzipped.values()].reduce((a, b) => a + b, 0)
    const initial = new Set<string>()
    const visit = (fileName: string) => {
      if (initial.has(fileName)) return
      initial.add(fileName)
      for (const imported of chunks.find((c) => c.fileName === fileName)?.imports ?? []) visit(imported)
    }
    for (const entry of chunks.filter((c) => c.isEntry)) {
      visit(entry.fileName)
      for (const app of entry.dynamicImports.filter((name) => !POLYFILL.test(name))) visit(app)
    }
    const first = [...initial].reduce((sum, name) => sum + (gzipped.get(name) ?? 0), 0)
    const lines = [...gzipped]
      .sort(([, a], [, b]) => b - a)
      .map(([name, size]) => `  ${kb(size).padStart(9)}  ${name}${initial.has(name) ? "" : " (lazy)"}`)
    const verdict = total <= budgetKb * 1000 ? "within" : "over"
    console.log(
      [
        "",
        "JavaScript, gzipped:",
        ...lines,
        `  ${kb(first).padStart(9)}  loaded by every page (the rest is lazy: a route, the charts, the polyfill)`,
        `  ${kb(total).padStart(9)}  all of it: ${verdict} the ${budgetKb} kB budget`
      ].join("\n")
    )
  }
})
