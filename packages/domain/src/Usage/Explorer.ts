/*
 * The usage explorer's grouping and ordering: pure and free of Effect, so the server (its RPC and the CSV of
 * `/api/usage`) and the web app (which sorts and pages the rows it shows) run the very same code, and a CSV
 * export holds exactly the rows on screen, in their order.
 */

/** The length of one row's period. */
export type Granularity = "day" | "week" | "month"
export const GRANULARITIES: ReadonlyArray<Granularity> = ["day", "week", "month"]

/** What a row stands for within its period: one model (over the keys shown) or one key (over the models). */
export type SplitBy = "model" | "key"
export const SPLITS: ReadonlyArray<SplitBy> = ["model", "key"]

/** The columns the rows can be ordered by. */
export type SortColumn = "date" | "label" | "requests" | "tokens_input" | "tokens_output" | "cost"
export const SORT_COLUMNS: ReadonlyArray<SortColumn> = [
  "date",
  "label",
  "requests",
  "tokens_input",
  "tokens_output",
  "cost"
]
export type SortOrder = "asc" | "desc"

const DAY_MS = 86_400_000

/**
 * The first day of the period `date` (`YYYY-MM-DD`, UTC) falls in: the day itself, the Monday of its week
 * (weeks start on Monday 00:00 UTC, as OpenRouter's weekly limits and the budgets do) or the 1st of its month.
 */
export const periodStart = (date: string, granularity: Granularity): string => {
  if (granularity === "day") return date
  if (granularity === "month") return `${date.slice(0, 8)}01`
  const at = Date.parse(`${date}T00:00:00Z`)
  const sinceMonday = (new Date(at).getUTCDay() + 6) % 7
  return new Date(at - sinceMonday * DAY_MS).toISOString().slice(0, 10)
}

/** One effective usage line (the domain's `UsageLine`): cost in micro-dollars. */
export interface ExplorerLine {
  readonly keyId: string
  readonly date: string
  readonly model: string
  readonly requests: number
  readonly tokensInput: number
  readonly tokensOutput: number
  readonly cost: number
}

/** Which lines count, and how they are grouped. Empty `keyIds`/`models`: every key, every model. */
export interface ExplorerFilter {
  readonly keyIds: ReadonlyArray<string>
  readonly models: ReadonlyArray<string>
  readonly granularity: Granularity
  readonly split: SplitBy
}

/** The lines of one row: its period, its model or key id, and the lines summed into it. */
export interface ExplorerGroup<L extends ExplorerLine> {
  readonly period: string
  readonly group: string
  readonly lines: ReadonlyArray<L>
}

/**
 * The lines the filter keeps, grouped per (period, model or key), ordered by period then group. Lines must
 * already be effective (the supersede rule applied over all of a key's models), so filtering by model never
 * brings a superseded `unattributed` line back.
 */
export const groupLines = <L extends ExplorerLine>(
  lines: ReadonlyArray<L>,
  filter: ExplorerFilter
): ReadonlyArray<ExplorerGroup<L>> => {
  const keys = new Set(filter.keyIds)
  const models = new Set(filter.models)
  const groups = new Map<string, { period: string; group: string; lines: Array<L> }>()
  for (const line of lines) {
    if (keys.size > 0 && !keys.has(line.keyId)) continue
    if (models.size > 0 && !models.has(line.model)) continue
    const period = periodStart(line.date, filter.granularity)
    const group = filter.split === "model" ? line.model : line.keyId
    const id = `${period}|${group}`
    const found = groups.get(id)
    if (found === undefined) groups.set(id, { period, group, lines: [line] })
    else found.lines.push(line)
  }
  return [...groups.values()].sort((a, b) => compare(a.period, b.period) || compare(a.group, b.group))
}

/** Code-unit order, the same in every engine and locale (and as SQL's binary collation). */
export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The fields of a row that can be sorted on. */
export interface SortableRow {
  readonly date: string
  readonly label: string
  readonly group: string
  readonly requests: number
  readonly tokens_input: number
  readonly tokens_output: number
  readonly cost: number
}

/**
 * The rows ordered by `column` (`order`), ties broken by date, then label, then group (ascending), so the
 * order is total: the table and the CSV of the same sort always agree row for row.
 */
export const sortRows = <R extends SortableRow>(
  rows: ReadonlyArray<R>,
  column: SortColumn,
  order: SortOrder
): ReadonlyArray<R> => {
  const sign = order === "asc" ? 1 : -1
  const by = (a: R, b: R): number =>
    column === "date" || column === "label" ? compare(a[column], b[column]) : a[column] - b[column]
  return [...rows].sort(
    (a, b) => sign * by(a, b) || compare(a.date, b.date) || compare(a.label, b.label) || compare(a.group, b.group)
  )
}
