#!/usr/bin/env node
// `pnpm orw ...`: runs the orw command line from one bundled file. Loading the TypeScript
// sources through a loader costs seconds of CPU per start; the bundle starts in a fraction
// of that. It is rebuilt (esbuild, about a second) whenever a source file is newer.
import { pathToFileURL } from "node:url"
import { ensureBundle } from "./build.mjs"

await import(pathToFileURL(await ensureBundle("cli")).href)
