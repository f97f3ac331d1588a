#!/usr/bin/env node
// `node scripts/package.mjs OUT`: the runtime file layout of the Docker image, in OUT. The bundles (server,
// demo, orw) and the web build, beside the only packages they load at run time: the externals of the
// bundles (better-sqlite3 with its compiled addon, @node-rs/argon2 with this platform's binary,
// swagger-ui-dist's files) and their runtime dependencies. No development dependency, no pnpm, no source.
// The Dockerfile's build stage runs exactly this; tests/reliability/runtime.test.ts runs it too and starts
// the result as an unprivileged user.
import * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { BUNDLES, EXTERNAL, ensureBundle, ensureWeb, ROOT } from "./build.mjs"

const out = NodePath.resolve(process.argv[2] ?? "")
if (process.argv[2] === undefined) {
  console.error("usage: node scripts/package.mjs OUT")
  process.exit(2)
}
/** Needed only to install a package, never to run it. */
const INSTALL_ONLY = new Set(["prebuild-install", "@scarf/scarf"])

const copy = (from, to) => {
  NodeFs.mkdirSync(NodePath.dirname(to), { recursive: true })
  NodeFs.cpSync(from, to, { recursive: true, dereference: true })
}

for (const name of Object.keys(BUNDLES)) {
  const file = await ensureBundle(name)
  copy(file, NodePath.join(out, BUNDLES[name].output))
}
ensureWeb()
copy(NodePath.join(ROOT, "packages/web/dist"), NodePath.join(out, "packages/web/dist"))

/** The package folder of `name` as seen from `from` (a package.json path), or undefined when absent. */
const locate = (name, from) => {
  try {
    return NodePath.dirname(createRequire(from).resolve(`${name}/package.json`))
  } catch {
    return undefined
  }
}

const copied = new Set()
const vendor = (name, from, optional = false) => {
  if (copied.has(name) || INSTALL_ONLY.has(name)) return
  const dir = locate(name, from)
  if (dir === undefined) {
    if (optional) return
    throw new Error(`${name} is not installed (run pnpm install first)`)
  }
  copied.add(name)
  copy(dir, NodePath.join(out, "node_modules", name))
  const manifest = JSON.parse(NodeFs.readFileSync(NodePath.join(dir, "package.json"), "utf8"))
  const self = NodePath.join(dir, "package.json")
  for (const dep of Object.keys(manifest.dependencies ?? {})) vendor(dep, self)
  // Platform binaries (@node-rs/argon2-linux-x64-gnu): only the one installed here exists.
  for (const dep of Object.keys(manifest.optionalDependencies ?? {})) vendor(dep, self, true)
}
const server = NodePath.join(ROOT, "packages/server/package.json")
for (const name of EXTERNAL) vendor(name, server, name === "pg-native")

NodeFs.writeFileSync(
  NodePath.join(out, "package.json"),
  `${JSON.stringify({ name: "openrouter-watcher", private: true, type: "module" }, null, 2)}\n`
)
// `orw` on the PATH of the image (docker exec <container> orw ...).
NodeFs.mkdirSync(NodePath.join(out, "bin"), { recursive: true })
NodeFs.writeFileSync(
  NodePath.join(out, "bin/orw"),
  '#!/bin/sh\nexec node "$(dirname "$(readlink -f "$0")")/../packages/cli/dist/orw.mjs" "$@"\n',
  { mode: 0o755 }
)
console.error(`Runtime layout in ${out}: ${[...copied].sort().join(", ")}`)
