#!/usr/bin/env node
// `npm start` / `pnpm serve` (and `pnpm demo` with "demo"): checks the port, builds what
// changed (the server bundle, the web app), then runs the server in this very process, so
// the signals of Ctrl-C or `docker stop` reach the process that serves, and a clean
// shutdown exits 0.
import * as NodeFs from "node:fs"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import { pathToFileURL } from "node:url"
import * as NodeUtil from "node:util"
import { ensureBundle, ensureWeb } from "./build.mjs"

const which = process.argv[2] === "demo" ? "demo" : "server"

/** A setting from the environment, else `.env` in the working directory (as the server reads them). */
const dotEnv = (() => {
  const file = NodePath.join(process.cwd(), ".env")
  try {
    return NodeFs.existsSync(file) ? NodeUtil.parseEnv(NodeFs.readFileSync(file, "utf8")) : {}
  } catch {
    return {}
  }
})()
const setting = (name) => process.env[name] ?? dotEnv[name]

/** Fails in one line when HOST:PORT is taken, before minutes of building are spent. */
const checkPort = () =>
  new Promise((resolve) => {
    const production = setting("NODE_ENV") === "production"
    const host = setting("HOST") ?? (production ? "0.0.0.0" : "127.0.0.1")
    const port = Number(setting("PORT") ?? 8000)
    if (!Number.isInteger(port) || port <= 0) return resolve()
    const probe = NodeNet.createServer()
    probe.once("error", (error) => {
      if (error.code === "EADDRINUSE") {
        console.error(`Port ${port} on ${host} is already in use (another server?): stop it or set PORT.`)
        process.exit(1)
      }
      // Anything else (EACCES, an unknown host) the server reports itself with its own message.
      resolve()
    })
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()))
  })

await checkPort()
const bundle = await ensureBundle(which)
ensureWeb()
await import(pathToFileURL(bundle).href)
