/**
 * The one format every benchmark reports in (issue 14): bench/results.json holds
 * `{"benchmarks":[{name, value, unit, reference, reference_value, ratio, target}]}` and
 * BENCHMARKS.md the same rows as a table, the machine and how to reproduce.
 * ratio = value / reference_value, higher is better (for latencies pass the inverse, i.e.
 * reference_value / value, via `lowerIsBetter`). A run replaces only the rows it measured.
 */
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

export interface Row {
  readonly name: string
  readonly value: number
  readonly unit: string
  /** What the value is measured against (the floor), in words. */
  readonly reference: string
  readonly reference_value: number
  readonly ratio: number
  /** The target, in words, e.g. ">= 0.5" or "<= 3 s". */
  readonly target: string
  /** Whether the target is met (decided by the bench that measured it). */
  readonly met: boolean
  /** Anything else worth saying next to the figure (events/s, peak RSS, p99 …). */
  readonly note?: string
}

export const benchDir = NodePath.dirname(NodePath.dirname(new URL(import.meta.url).pathname))
const resultsFile = NodePath.join(benchDir, "results.json")
const markdownFile = NodePath.join(NodePath.dirname(benchDir), "BENCHMARKS.md")

/** A row whose ratio is value / reference (higher is better). */
export const higher = (row: Omit<Row, "ratio" | "met"> & { readonly atLeast: number }): Row => {
  const { atLeast, ...rest } = row
  const ratio = row.reference_value === 0 ? 0 : row.value / row.reference_value
  return { ...rest, ratio: round(ratio), met: ratio >= atLeast }
}

/** A row for a latency or a size: ratio = reference / value, met when value <= the bound. */
export const lowerIsBetter = (row: Omit<Row, "ratio" | "met" | "target"> & { readonly atMost: number }): Row => {
  const { atMost, ...rest } = row
  const ratio = row.value === 0 ? 0 : row.reference_value / row.value
  return { ...rest, target: `<= ${atMost} ${row.unit}`, ratio: round(ratio), met: row.value <= atMost }
}

const round = (n: number) => Math.round(n * 1000) / 1000

interface ResultsFile {
  readonly machine: string
  readonly updated_at: string
  readonly benchmarks: ReadonlyArray<Row>
}

const machine = () =>
  `${NodeOs.cpus().length} × ${NodeOs.cpus()[0]?.model ?? "cpu"}, ${(NodeOs.totalmem() / 2 ** 30).toFixed(0)} GiB, ${NodeOs.platform()} ${NodeOs.release()}, Node ${process.version}`

const readResults = (): ResultsFile => {
  try {
    return JSON.parse(NodeFs.readFileSync(resultsFile, "utf8")) as ResultsFile
  } catch {
    return { machine: machine(), updated_at: new Date().toISOString(), benchmarks: [] }
  }
}

/** Prints the rows as a table and merges them into results.json and BENCHMARKS.md. */
export const report = (rows: ReadonlyArray<Row>) => {
  printTable(rows)
  const previous = readResults()
  const byName = new Map(previous.benchmarks.map((r) => [r.name, r]))
  for (const r of rows) byName.set(r.name, r)
  const next: ResultsFile = {
    machine: machine(),
    updated_at: new Date().toISOString(),
    benchmarks: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }
  NodeFs.writeFileSync(resultsFile, `${JSON.stringify(next, null, 2)}\n`)
  writeMarkdown(next)
}

const fmt = (n: number) =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(3).replace(/\.?0+$/, "")

const printTable = (rows: ReadonlyArray<Row>) => {
  const lines = rows.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    `${fmt(r.reference_value)} (${r.reference})`,
    r.ratio.toFixed(3),
    r.target,
    r.met ? "met" : "MISSED",
    r.note ?? ""
  ])
  const header = ["name", "value", "reference", "ratio", "target", "", "note"]
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()
  console.log(line(header))
  for (const l of lines) console.log(line(l))
}

const writeMarkdown = (results: ResultsFile) => {
  const intro = markdownIntro()
  const table = [
    "| Benchmark | Value | Reference (floor) | Ratio | Target | Met | Note |",
    "|---|---|---|---|---|---|---|",
    ...results.benchmarks.map(
      (r) =>
        `| \`${r.name}\` | ${fmt(r.value)} ${r.unit} | ${fmt(r.reference_value)} — ${r.reference} | ${r.ratio.toFixed(3)} | ${r.target} | ${r.met ? "yes" : "**no**"} | ${r.note ?? ""} |`
    )
  ].join("\n")
  NodeFs.writeFileSync(
    markdownFile,
    `${intro.head}\n\n## Latest figures\n\nMachine: ${results.machine}. Updated ${results.updated_at}.\n\n${table}\n${intro.tail}`
  )
}

/** Keeps the hand-written parts of BENCHMARKS.md (everything outside the "Latest figures" section). */
const markdownIntro = (): { head: string; tail: string } => {
  const fallback = {
    head: "# Benchmarks\n\nRun all: `pnpm bench`; one: `pnpm bench <name>` (a name or its prefix, e.g. `pnpm bench append`).\nEach ratio is measured against a reference run back to back in the same process or script; higher is better.",
    tail: ""
  }
  let text: string
  try {
    text = NodeFs.readFileSync(markdownFile, "utf8")
  } catch {
    return fallback
  }
  const start = text.indexOf("\n## Latest figures")
  if (start < 0) return { head: text.trimEnd(), tail: "" }
  const after = text.indexOf("\n## ", start + 1)
  return { head: text.slice(0, start).trimEnd(), tail: after < 0 ? "" : `\n${text.slice(after)}` }
}
