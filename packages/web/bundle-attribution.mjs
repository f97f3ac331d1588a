// Where the web bundle's bytes come from: builds the app as `vite build` does (same config) but with source maps
// into a temporary folder (never dist/, whose build ships without maps), then attributes every minified byte of
// every chunk to the package (or app folder) its source map names, and each package's share of the chunk's
// gzipped size in proportion. Also says whether a module landed in two chunks.
//   node packages/web/bundle-attribution.mjs
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeZlib from "node:zlib"
import { build } from "vite"

const root = fileURLToPath(new URL(".", import.meta.url))
const outDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-web-attribution-"))

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
/** The VLQ fields of one source-map segment. */
const decode = (segment) => {
  const values = []
  let value = 0
  let shift = 0
  for (const char of segment) {
    const digit = B64.indexOf(char)
    value += (digit & 31) << shift
    if (digit & 32) shift += 5
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1)
      value = 0
      shift = 0
    }
  }
  return values
}

/** The package of a source path: a node_modules package, the domain, the web app's src, else the path. */
const owner = (source) => {
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(source)
  if (pkg !== null) return pkg[1]
  if (source.includes("packages/domain/")) return "@orw/domain"
  if (source.includes("packages/web/src/")) return "web/src"
  return source.replace(/^(\.\.\/)+/, "")
}

/** Minified bytes per package of one chunk, from its source map (line by line, segment to next segment). */
const bytesPerPackage = (code, map) => {
  const lines = code.split("\n")
  const bytes = new Map()
  let source = 0
  map.mappings.split(";").forEach((line, index) => {
    const text = lines[index] ?? ""
    let column = 0
    const segments = line === "" ? [] : line.split(",").map(decode)
    const starts = []
    for (const fields of segments) {
      column += fields[0]
      if (fields.length >= 4) source += fields[1]
      starts.push([column, fields.length >= 4 ? source : -1])
    }
    starts.forEach(([start, src], i) => {
      const end = i + 1 < starts.length ? starts[i + 1][0] : text.length
      const name = src < 0 ? "(unmapped)" : owner(map.sources[src] ?? "?")
      bytes.set(name, (bytes.get(name) ?? 0) + Math.max(0, end - start))
    })
    if (starts.length === 0 && text.length > 0) bytes.set("(unmapped)", (bytes.get("(unmapped)") ?? 0) + text.length)
  })
  return bytes
}

const kb = (n) => `${(n / 1000).toFixed(1)} kB`.padStart(9)

try {
  const chunks = []
  await build({
    root,
    configFile: NodePath.join(root, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true, sourcemap: true },
    plugins: [
      {
        name: "orw-attribution",
        apply: "build",
        writeBundle(_options, bundle) {
          for (const item of Object.values(bundle)) if (item.type === "chunk") chunks.push(item)
        }
      }
    ]
  })
  const seen = new Map()
  const totals = new Map()
  let all = 0
  for (const chunk of chunks.sort((a, b) => b.code.length - a.code.length)) {
    const map = JSON.parse(NodeFs.readFileSync(NodePath.join(outDir, `${chunk.fileName}.map`), "utf8"))
    const code = NodeFs.readFileSync(NodePath.join(outDir, chunk.fileName), "utf8")
    const gzipped = NodeZlib.gzipSync(code, { level: 9 }).length
    all += gzipped
    const bytes = bytesPerPackage(code, map)
    const mapped = [...bytes.values()].reduce((a, b) => a + b, 0) || 1
    console.log(`\n${chunk.fileName}: ${kb(code.length).trim()} minified, ${kb(gzipped).trim()} gzipped`)
    for (const [name, size] of [...bytes].sort(([, a], [, b]) => b - a)) {
      const share = (gzipped * size) / mapped
      totals.set(name, (totals.get(name) ?? 0) + share)
      console.log(`  ${kb(share)} gzipped (${kb(size).trim()} minified)  ${name}`)
    }
    for (const id of Object.keys(chunk.modules)) seen.set(id, [...(seen.get(id) ?? []), chunk.fileName])
  }
  console.log("\nAll chunks, per package (gzipped, shares of each chunk):")
  for (const [name, share] of [...totals].sort(([, a], [, b]) => b - a)) console.log(`  ${kb(share)}  ${name}`)
  console.log(`  ${kb(all)}  all of it (${chunks.length} chunks)`)
  const twice = [...seen].filter(([, files]) => files.length > 1)
  console.log(
    twice.length === 0
      ? "No module is in two chunks."
      : `In two chunks or more:\n${twice.map(([id, f]) => `  ${id}: ${f.join(", ")}`).join("\n")}`
  )
} finally {
  NodeFs.rmSync(outDir, { recursive: true, force: true })
}
