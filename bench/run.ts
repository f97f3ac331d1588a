/**
 * `pnpm bench` runs every benchmark; `pnpm bench <name>` the ones whose name is <name> or
 * starts with "<name>." (e.g. `pnpm bench append`). Each benchmark module exports
 * `benchmarks: ReadonlyArray<{ name, run(): Promise<ReadonlyArray<Row>> }>`; a module measuring
 * several names at once lists them in `names`. Rows go to bench/results.json and BENCHMARKS.md.
 */
import { type Row, report } from "./lib/results.js"

export interface Benchmark {
  /** The names of the rows this benchmark writes. */
  readonly names: ReadonlyArray<string>
  readonly run: () => Promise<ReadonlyArray<Row>>
}

/** Every benchmark module; add yours here, one line each (so that modules added side by side merge cleanly). */
// biome-ignore format: one line per module
const modules: ReadonlyArray<() => Promise<{ benchmarks: ReadonlyArray<Benchmark> }>> = [
  () => import("./append.js"),
  () => import("./rebuild.js"),
  () => import("./postgres.js"),
  () => import("./http.js"),
  () => import("./sync.js"),
  () => import("./start.js"),
  () => import("./web.js"),
  () => import("./web-chart.js"),
]

const wanted = process.argv.slice(2)
const matches = (name: string) => wanted.length === 0 || wanted.some((w) => name === w || name.startsWith(`${w}.`))

const main = async () => {
  const all = (await Promise.all(modules.map((m) => m()))).flatMap((m) => m.benchmarks)
  const chosen = all.filter((b) => b.names.some(matches))
  if (chosen.length === 0) {
    console.error(`No benchmark named ${wanted.join(" ")}; known: ${all.flatMap((b) => b.names).join(", ")}`)
    process.exit(2)
  }
  const rows: Array<Row> = []
  for (const b of chosen) {
    console.log(`\n▶ ${b.names.join(", ")}`)
    rows.push(...(await b.run()).filter((r) => matches(r.name)))
  }
  console.log("")
  report(rows)
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e))
  process.exit(1)
})
