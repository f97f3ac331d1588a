import { spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { CliError } from "../Failure.js"

/** The repository root, from this file (source or bundle: both sit three levels down). */
const root = () => NodePath.resolve(NodePath.dirname(fileURLToPath(import.meta.url)), "../../..")

/**
 * `orw demo`: the same as `pnpm demo` (server + in-process OpenRouter simulator + demo
 * account), run in the foreground until Ctrl-C.
 */
export const demo = Command.make("demo", {}, () =>
  Effect.async<void, CliError>((resume) => {
    // From a checkout: start.mjs (bundles what changed); in the Docker image: the demo bundle built there.
    const start = NodePath.join(root(), "scripts/start.mjs")
    const entry = NodeFs.existsSync(start) ? [start, "demo"] : [NodePath.join(root(), "packages/server/dist/demo.mjs")]
    const child = spawn(process.execPath, entry, {
      cwd: process.cwd(),
      stdio: "inherit"
    })
    child.on("error", (error) =>
      resume(Effect.fail(new CliError({ message: `Cannot start the demo: ${error.message}` })))
    )
    child.on("exit", (code) =>
      resume(
        code === 0 || code === null ? Effect.void : Effect.fail(new CliError({ message: `demo exited with ${code}` }))
      )
    )
    return Effect.sync(() => child.kill("SIGINT"))
  })
).pipe(Command.withDescription("Run the server with a simulated OpenRouter and a demo account (see pnpm demo)"))
