import { isAnsweredRange, isCalendarDay } from "@orw/domain/Plain"
import {
  GRANULARITIES,
  type Granularity,
  SORT_COLUMNS,
  type SortColumn,
  type SortOrder,
  SPLITS,
  type SplitBy
} from "@orw/domain/Usage/Explorer"

/*
 * The usage explorer's filters and the URL that holds them (`/usage?range=90d&key=...&group=week`), so a
 * reload or a shared link shows the same rows; and the two requests built from them: the RPC query of the
 * page and the CSV export of `/api/usage`, which must ask for exactly what the page shows.
 */

/** A range ending today (UTC): the last N days, or the current month so far. */
export type RangePreset = "7d" | "30d" | "90d" | "365d" | "month"
export const PRESETS: ReadonlyArray<{ readonly id: RangePreset; readonly label: string }> = [
  { id: "7d", label: "7 days" },
  { id: "30d", label: "30 days" },
  { id: "90d", label: "90 days" },
  { id: "365d", label: "365 days" },
  { id: "month", label: "This month" }
]

export interface UsageFilters {
  /** A preset, or `custom` for `start`..`end`. */
  readonly range: RangePreset | "custom"
  /** The first and last day of a custom range (`YYYY-MM-DD`); empty for a preset. */
  readonly start: string
  readonly end: string
  /** Key ids shown; empty: every key. */
  readonly keys: ReadonlyArray<string>
  /** Models shown; empty: every model. */
  readonly models: ReadonlyArray<string>
  readonly granularity: Granularity
  readonly split: SplitBy
  readonly sort: SortColumn
  readonly order: SortOrder
  /** 1-based page of the table. */
  readonly page: number
}

export const DEFAULT_FILTERS: UsageFilters = {
  range: "30d",
  start: "",
  end: "",
  keys: [],
  models: [],
  granularity: "day",
  split: "model",
  sort: "date",
  order: "asc",
  page: 1
}

const DAY_MS = 86_400_000

/** Today, UTC, `YYYY-MM-DD` (the server counts days in UTC). */
export const utcToday = (now = new Date()): string => now.toISOString().slice(0, 10)

/** `date` shifted by `days`. */
export const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)

/** The first and last day the filters cover, given today. */
export const resolveRange = (filters: UsageFilters, today: string): { start: string; end: string } => {
  switch (filters.range) {
    case "custom":
      return { start: filters.start, end: filters.end }
    case "month":
      return { start: `${today.slice(0, 8)}01`, end: today }
    default:
      return { start: addDays(today, -(Number.parseInt(filters.range, 10) - 1)), end: today }
  }
}

const oneOf = <A extends string>(values: ReadonlyArray<A>, value: string | null, fallback: A): A =>
  values.find((v) => v === value) ?? fallback

const unique = (values: ReadonlyArray<string>) => [...new Set(values.filter((v) => v !== ""))]

/**
 * The filters a URL's query holds. Anything unknown or malformed falls back to its default, so an edited or
 * stale link still opens; a custom range needs two real days, the first not after the second, at most a
 * year apart (what the server answers for).
 */
export const parseFilters = (search: string): UsageFilters => {
  const params = new URLSearchParams(search)
  const from = params.get("from") ?? ""
  const to = params.get("to") ?? ""
  const custom = isCalendarDay(from) && isCalendarDay(to) && isAnsweredRange(from, to)
  const page = Number(params.get("page"))
  return {
    range: custom
      ? "custom"
      : oneOf(
          PRESETS.map((p) => p.id),
          params.get("range"),
          DEFAULT_FILTERS.range
        ),
    start: custom ? from : "",
    end: custom ? to : "",
    keys: unique(params.getAll("key")),
    models: unique(params.getAll("model")),
    granularity: oneOf(GRANULARITIES, params.get("group"), DEFAULT_FILTERS.granularity),
    split: oneOf(SPLITS, params.get("by"), DEFAULT_FILTERS.split),
    sort: oneOf(SORT_COLUMNS, params.get("sort"), DEFAULT_FILTERS.sort),
    order: oneOf(["asc", "desc"] as const, params.get("order"), DEFAULT_FILTERS.order),
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1
  }
}

/** The query (`?...`, or "" for the defaults) that {@link parseFilters} reads back as `filters`. */
export const filtersToSearch = (filters: UsageFilters): string => {
  const params = new URLSearchParams()
  if (filters.range === "custom") {
    params.set("from", filters.start)
    params.set("to", filters.end)
  } else if (filters.range !== DEFAULT_FILTERS.range) params.set("range", filters.range)
  for (const key of filters.keys) params.append("key", key)
  for (const model of filters.models) params.append("model", model)
  if (filters.granularity !== DEFAULT_FILTERS.granularity) params.set("group", filters.granularity)
  if (filters.split !== DEFAULT_FILTERS.split) params.set("by", filters.split)
  if (filters.sort !== DEFAULT_FILTERS.sort || filters.order !== DEFAULT_FILTERS.order) {
    params.set("sort", filters.sort)
    params.set("order", filters.order)
  }
  if (filters.page !== 1) params.set("page", String(filters.page))
  const query = params.toString()
  return query === "" ? "" : `?${query}`
}

/** The `usage` RPC's payload for the filters. */
export const explorerQuery = (filters: UsageFilters, today: string) => {
  const { start, end } = resolveRange(filters, today)
  return {
    start_date: start,
    end_date: end,
    key_ids: filters.keys,
    models: filters.models,
    granularity: filters.granularity,
    split: filters.split
  }
}

/**
 * The CSV export of what the page shows: `/api/usage` (session cookie) with the same range, keys, models,
 * grouping and sort, so the server's `sortRows` gives the table's order; every page of rows.
 */
export const csvHref = (filters: UsageFilters, today: string): string => {
  const { start, end } = resolveRange(filters, today)
  const params = new URLSearchParams({ format: "csv", start_date: start, end_date: end })
  for (const key of filters.keys) params.append("key_id", key)
  for (const model of filters.models) params.append("model", model)
  params.set("group", filters.granularity)
  params.set("by", filters.split)
  params.set("sort", filters.sort)
  params.set("order", filters.order)
  return `/api/usage?${params.toString()}`
}

/** A new sort: the same column flips its order; another starts ascending for text, descending for figures. */
export const toggleSort = (filters: UsageFilters, column: SortColumn): UsageFilters => ({
  ...filters,
  sort: column,
  order:
    filters.sort === column
      ? filters.order === "asc"
        ? "desc"
        : "asc"
      : column === "date" || column === "label"
        ? "asc"
        : "desc",
  page: 1
})
