import { type SortableRow, sortRows } from "@orw/domain/Usage/Explorer"
import type { UsageFilters } from "./usage-filters.js"

/** Rows per page of the explorer's table. */
export const PAGE_SIZE = 50

/** How many pages `total` rows make (at least one, so "page 1 of 1" reads for an empty table). */
export const pageCount = (total: number, size = PAGE_SIZE): number => Math.max(1, Math.ceil(total / size))

/**
 * What the table shows for the filters: every row in the filter's order (the same `sortRows` the CSV export
 * runs on the server), the page asked for (clamped to the last one) and how many pages there are.
 */
export const tableView = <R extends SortableRow>(rows: ReadonlyArray<R>, filters: UsageFilters, size = PAGE_SIZE) => {
  const sorted = sortRows(rows, filters.sort, filters.order)
  const pages = pageCount(sorted.length, size)
  const page = Math.min(Math.max(1, filters.page), pages)
  return { sorted, page, pages, shown: sorted.slice((page - 1) * size, page * size) }
}

/** The label of the first column for a granularity. */
export const periodHeading = (granularity: UsageFilters["granularity"]): string =>
  granularity === "day" ? "Date" : granularity === "week" ? "Week of" : "Month"

/** A period's first day as the table shows it: the day, the Monday of the week, or `YYYY-MM` for a month. */
export const periodLabel = (date: string, granularity: UsageFilters["granularity"]): string =>
  granularity === "month" ? date.slice(0, 7) : date
