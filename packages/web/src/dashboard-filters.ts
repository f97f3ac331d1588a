import type { SplitBy } from "@orw/domain/Usage/Explorer"

/** The dashboard's ranges, in days ending today. */
export const RANGES = [7, 30, 90] as const
export type DashboardDays = (typeof RANGES)[number]

/** What the dashboard shows, kept in its URL (`/dashboard?days=7&key=...&by=key`) so reload and share keep it. */
export interface DashboardFilters {
  readonly days: DashboardDays
  /** One key's spend; "" for every key. */
  readonly keyId: string
  /** The daily spend chart's stacks: per model or per key. */
  readonly split: SplitBy
}

export const DEFAULT_DASHBOARD: DashboardFilters = { days: 30, keyId: "", split: "model" }

export const parseDashboard = (search: string): DashboardFilters => {
  const params = new URLSearchParams(search)
  const days = RANGES.find((d) => String(d) === params.get("days")) ?? DEFAULT_DASHBOARD.days
  return { days, keyId: params.get("key") ?? "", split: params.get("by") === "key" ? "key" : "model" }
}

/** The query ("" for the defaults) {@link parseDashboard} reads back as `filters`. */
export const dashboardSearch = (filters: DashboardFilters): string => {
  const params = new URLSearchParams()
  if (filters.days !== DEFAULT_DASHBOARD.days) params.set("days", String(filters.days))
  if (filters.keyId !== "") params.set("key", filters.keyId)
  if (filters.split !== DEFAULT_DASHBOARD.split) params.set("by", filters.split)
  const query = params.toString()
  return query === "" ? "" : `?${query}`
}

/** Replaces the page's query with `search` (no new history entry, no navigation: the page is the same). */
export const replaceSearch = (search: string): void => {
  if (window.location.search === search) return
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${search}`)
}
