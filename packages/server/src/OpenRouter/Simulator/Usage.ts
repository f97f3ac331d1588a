import { createHash } from "node:crypto"
import type { Scenario, SimKey, UsageBase } from "./Scenario.js"
import { toNano } from "./Scenario.js"

/** Options of {@link addUsage}. */
export interface UsageInit {
  readonly model?: string
  readonly provider?: string
  /** UTC day `YYYY-MM-DD`; defaults to the simulator's today. */
  readonly date?: string
  readonly requests?: number
  readonly promptTokens?: number
  readonly completionTokens?: number
  readonly reasoningTokens?: number
  readonly byokUsd?: number
}

/** Records usage on a key: one activity row, merged with an existing (date, model, provider) row. */
export const addUsage = (scenario: Scenario, simKey: SimKey, usd: number, init: UsageInit, now: Date): void => {
  const date = init.date ?? utcDay(now)
  const m = scenario.models.find((candidate) => candidate.id === init.model) ?? scenario.models[0]
  const modelId = init.model ?? m?.id ?? "openai/gpt-4.1"
  const provider = init.provider ?? m?.providers[0] ?? "OpenAI"
  const endpointId = endpointIdOf(modelId, provider)
  let row = simKey.activity.find((r) => r.date === date && r.model === modelId && r.endpoint_id === endpointId)
  if (row === undefined) {
    row = {
      date,
      model: modelId,
      model_permaslug: m?.id === modelId ? m.permaslug : modelId,
      endpoint_id: endpointId,
      provider_name: provider,
      usage: 0,
      byok_usage_inference: 0,
      requests: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      reasoning_tokens: 0
    }
    simKey.activity.push(row)
  }
  row.usage += toNano(usd)
  row.byok_usage_inference += toNano(init.byokUsd ?? 0)
  row.requests += init.requests ?? 1
  row.prompt_tokens += init.promptTokens ?? 0
  row.completion_tokens += (init.completionTokens ?? 0) + (init.reasoningTokens ?? 0)
  row.reasoning_tokens += init.reasoningTokens ?? 0
  simKey.updated_at = now.toISOString()
}

/** A stable UUID-shaped id per (model, provider), like OpenRouter's endpoint ids. */
export const endpointIdOf = (modelId: string, provider: string): string => {
  const h = createHash("sha256").update(`${modelId}|${provider}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** The UTC day of a date, `YYYY-MM-DD`. */
export const utcDay = (date: Date): string => date.toISOString().slice(0, 10)

/** The UTC day `n` days before `date`. */
export const daysBefore = (date: Date, n: number): string => utcDay(new Date(date.getTime() - n * 86_400_000))

/** The usage windows of a key at `now`: base figures plus its activity rows (all-time, UTC day, Mon-Sun, month). */
export const usageWindows = (simKey: SimKey, now: Date, pick: "usage" | "byok"): UsageBase => {
  const today = utcDay(now)
  const weekStart = daysBefore(now, (now.getUTCDay() + 6) % 7)
  const monthStart = `${today.slice(0, 8)}01`
  const b = pick === "usage" ? simKey.usage : simKey.byokUsage
  const out = { ...b }
  for (const row of simKey.activity) {
    if (row.date > today) continue
    const v = pick === "usage" ? row.usage : row.byok_usage_inference
    out.total += v
    if (row.date === today) out.daily += v
    if (row.date >= weekStart) out.weekly += v
    if (row.date >= monthStart) out.monthly += v
  }
  return out
}
