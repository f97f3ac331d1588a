import { type AnalyticsOptions, queryAnalytics } from "./Analytics.js"
import { chatCompletion, headroom } from "./Completions.js"
import type { Scenario, SimKey } from "./Scenario.js"
import { fromNano } from "./Scenario.js"
import { daysBefore, usageWindows } from "./Usage.js"

/** What a route answers, before faults are applied. */
export interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string>
}

/** One parsed request, as the routes see it. */
export interface RouteRequest {
  readonly endpoint: string
  readonly query: URLSearchParams
  /** The bearer token, when the request carried one. */
  readonly bearer: string | undefined
  readonly method: string
  /** The raw request body ("" without one). */
  readonly body: string
}

/** OpenRouter's error envelope, with HTTP status = code. */
export const errorReply = (code: number, message: string, headers?: Record<string, string>): Reply => ({
  status: code,
  body: { error: { code, message, metadata: {} } },
  ...(headers === undefined ? {} : { headers })
})

const PAGE_SIZE = 100
const ACTIVITY_DAYS = 30
const DAY = /^\d{4}-\d{2}-\d{2}$/

/** Answers one request from the scenario at `now`. */
export const route = (scenario: Scenario, now: Date, req: RouteRequest, analytics: AnalyticsOptions): Reply => {
  const patch = /^\/keys\/([0-9a-f]{64})$/.exec(req.endpoint)
  const method =
    patch !== null
      ? "PATCH"
      : req.endpoint === "/analytics/query" || req.endpoint === "/chat/completions"
        ? "POST"
        : "GET"
  if (req.endpoint === "/models" && req.method === "GET") {
    return { status: 200, body: { data: scenario.models.map(modelJson) } }
  }
  const known = ["/key", "/activity", "/keys", "/credits", "/analytics/query", "/chat/completions"]
  if (!known.includes(req.endpoint) && patch === null) return errorReply(404, "Not Found")
  if (req.method !== method) return errorReply(405, "Method Not Allowed")
  if (req.bearer === undefined) return errorReply(401, "No auth credentials found")
  const caller = scenario.keys.find((k) => k.key === req.bearer)
  if (caller === undefined || caller.disabled || isExpired(caller, now)) return errorReply(401, "User not found.")
  if (req.endpoint === "/key") return { status: 200, body: { data: keyJson(caller, now) } }
  if (req.endpoint === "/chat/completions") return chatCompletion(scenario, caller, now, req.body)
  if (!caller.is_management_key) return errorReply(403, "Only management keys can perform this operation")
  if (patch !== null) return patchKey(scenario, now, patch[1] ?? "", req.body)
  if (req.endpoint === "/analytics/query") return queryAnalytics(scenario, now, req.body, analytics)
  switch (req.endpoint) {
    case "/keys":
      return listKeys(scenario, now, req.query)
    case "/activity":
      return activity(scenario, now, req.query)
    default:
      return { status: 200, body: { data: credits(scenario, now) } }
  }
}

const isExpired = (k: SimKey, now: Date): boolean =>
  typeof k.expires_at === "string" && new Date(k.expires_at).getTime() <= now.getTime()

export const usageFields = (k: SimKey, now: Date) => {
  const u = usageWindows(k, now, "usage")
  const b = usageWindows(k, now, "byok")
  return {
    limit: k.limit,
    // The same figure the spending rule checks (Completions.ts): 0 means the key's calls get 402.
    limit_remaining: k.limit === null ? null : fromNano(headroom(k, now)),
    limit_reset: k.limit_reset,
    include_byok_in_limit: k.include_byok_in_limit,
    usage: fromNano(u.total),
    usage_daily: fromNano(u.daily),
    usage_weekly: fromNano(u.weekly),
    usage_monthly: fromNano(u.monthly),
    byok_usage: fromNano(b.total),
    byok_usage_daily: fromNano(b.daily),
    byok_usage_weekly: fromNano(b.weekly),
    byok_usage_monthly: fromNano(b.monthly)
  }
}

const expiresField = (k: SimKey) => (k.expires_at === undefined ? {} : { expires_at: k.expires_at })

const keyJson = (k: SimKey, now: Date) => ({
  label: k.label,
  ...usageFields(k, now),
  is_free_tier: false,
  is_management_key: k.is_management_key,
  is_provisioning_key: k.is_management_key,
  creator_user_id: null,
  ...expiresField(k),
  rate_limit: { requests: -1, interval: "10s" }
})

/** A key as `GET /keys` lists it (and `PATCH /keys/{hash}` answers it). */
const listedKey = (k: SimKey, now: Date) => ({
  hash: k.hash,
  name: k.name,
  label: k.label,
  disabled: k.disabled,
  ...usageFields(k, now),
  created_at: k.created_at,
  updated_at: k.updated_at,
  ...expiresField(k)
})

const RESETS = [null, "daily", "weekly", "monthly"]

/** `PATCH /keys/{hash}`: name, limit, limit_reset, include_byok_in_limit, disabled. */
const patchKey = (scenario: Scenario, now: Date, hash: string, body: string): Reply => {
  const target = scenario.keys.find((k) => k.hash === hash && !k.is_management_key)
  if (target === undefined) return errorReply(404, "Key not found")
  let change: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
    change = parsed as Record<string, unknown>
  } catch {
    return errorReply(400, "Invalid JSON body")
  }
  if ("limit" in change && change.limit !== null && (typeof change.limit !== "number" || change.limit < 0)) {
    return errorReply(400, "limit must be a non-negative number or null")
  }
  if ("limit_reset" in change && !RESETS.includes(change.limit_reset as string | null)) {
    return errorReply(400, "limit_reset must be daily, weekly, monthly or null")
  }
  if ("limit" in change) target.limit = change.limit as number | null
  if ("limit_reset" in change) target.limit_reset = change.limit_reset as string | null
  if (typeof change.name === "string") target.name = change.name
  if (typeof change.disabled === "boolean") target.disabled = change.disabled
  if (typeof change.include_byok_in_limit === "boolean") target.include_byok_in_limit = change.include_byok_in_limit
  target.updated_at = now.toISOString()
  return { status: 200, body: { data: listedKey(target, now) } }
}

const listKeys = (scenario: Scenario, now: Date, query: URLSearchParams): Reply => {
  const offset = Number(query.get("offset") ?? "0")
  if (!Number.isInteger(offset) || offset < 0) return errorReply(400, "Invalid offset")
  const includeDisabled = query.get("include_disabled") === "true"
  const keys = scenario.keys.filter((k) => !k.is_management_key && (includeDisabled || !k.disabled))
  const page = keys.slice(offset, offset + PAGE_SIZE).map((k) => listedKey(k, now))
  return { status: 200, body: { data: page } }
}

const activity = (scenario: Scenario, now: Date, query: URLSearchParams): Reply => {
  // The last 30 completed UTC days: today is still running and never reported.
  const first = daysBefore(now, ACTIVITY_DAYS)
  const last = daysBefore(now, 1)
  const date = query.get("date")
  if (date !== null && (!DAY.test(date) || date < first || date > last)) {
    return errorReply(400, "Date must be within the last 30 completed UTC days (YYYY-MM-DD)")
  }
  const hash = query.get("api_key_hash")
  const keys = scenario.keys.filter((k) => hash === null || k.hash === hash)
  const rows = keys
    .flatMap((k) => k.activity)
    .filter((r) => r.date >= first && r.date <= last && (date === null || r.date === date))
    .map((r) => ({ ...r, usage: fromNano(r.usage), byok_usage_inference: fromNano(r.byok_usage_inference) }))
    .sort((a, b) => (a.date === b.date ? a.model.localeCompare(b.model) : a.date < b.date ? 1 : -1))
  return { status: 200, body: { data: rows } }
}

const credits = (scenario: Scenario, now: Date) => {
  const used = scenario.credits.totalUsage ?? scenario.keys.reduce((n, k) => n + usageWindows(k, now, "usage").total, 0)
  return { total_credits: fromNano(scenario.credits.totalCredits), total_usage: fromNano(used) }
}

const modelJson = (m: Scenario["models"][number]) => ({
  id: m.id,
  canonical_slug: m.permaslug,
  name: m.name,
  created: 1_735_689_600,
  context_length: 131_072,
  pricing: { prompt: m.prompt, completion: m.completion, request: "0", image: "0" },
  providers: m.providers
})
