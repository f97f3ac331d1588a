import type { Reply } from "./Routes.js"
import { errorReply } from "./Routes.js"
import type { Scenario, SimKey } from "./Scenario.js"
import { fromNano, toNano } from "./Scenario.js"
import { addUsage, type UsageInit, usageWindows } from "./Usage.js"

/**
 * What a key may still spend in its limit's window, in nano-dollars (Infinity without a limit): OpenRouter's
 * `limit_remaining`, BYOK counted when `include_byok_in_limit`. The one figure `/key` reports and the spending
 * rule below checks.
 */
export const headroom = (k: SimKey, now: Date): number => {
  if (k.limit === null) return Number.POSITIVE_INFINITY
  const u = usageWindows(k, now, "usage")
  const b = usageWindows(k, now, "byok")
  const window = k.limit_reset === "daily" ? "daily" : k.limit_reset === "weekly" ? "weekly" : "monthly"
  const pick = k.limit_reset === null ? "total" : window
  return Math.max(0, toNano(k.limit) - (u[pick] + (k.include_byok_in_limit ? b[pick] : 0)))
}

/** What charging a key did: the nano-dollars spent, or nothing because its limit is reached (OpenRouter's 402). */
export type Charge = { readonly _tag: "Charged"; readonly nano: number } | { readonly _tag: "LimitReached" }

/**
 * Spends `usd` on a key as OpenRouter lets it: a key with nothing left of its limit (`limit_remaining` 0) is
 * refused (402) and spends nothing; otherwise at most what the limit leaves, so `limit_remaining` reaches 0
 * exactly and stays there until the window resets. The one rule of `POST /chat/completions` and of the demo's
 * live traffic.
 */
export const charge = (scenario: Scenario, key: SimKey, usd: number, init: UsageInit, now: Date): Charge => {
  const left = headroom(key, now)
  if (left <= 0) return { _tag: "LimitReached" }
  const nano = Math.min(toNano(usd), left)
  addUsage(scenario, key, nano / 1e9, init, now)
  return { _tag: "Charged", nano }
}

const LIMIT_MESSAGE = "Key limit exceeded: this key has no credit left in its limit (limit_remaining is 0)"

/**
 * `POST /chat/completions` by an inference key: the request is priced from the model's catalogue prices
 * (prompt tokens ≈ characters / 4 of the messages, completion tokens = `max_tokens`, default 64) and charged
 * to the key through {@link charge}; past its limit, `402 {"error":{"code":402,...}}`. Management keys cannot
 * call completions (403), as on OpenRouter.
 */
export const chatCompletion = (scenario: Scenario, caller: SimKey, now: Date, body: string): Reply => {
  if (caller.is_management_key) return errorReply(403, "Management keys cannot make completions")
  let request: { model?: unknown; messages?: unknown; max_tokens?: unknown }
  try {
    const parsed: unknown = JSON.parse(body === "" ? "{}" : body)
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
    request = parsed
  } catch {
    return errorReply(400, "Invalid JSON body")
  }
  const model =
    typeof request.model === "string" ? scenario.models.find((m) => m.id === request.model) : scenario.models[0]
  if (model === undefined) return errorReply(400, `${String(request.model)} is not a valid model ID`)
  const text = Array.isArray(request.messages)
    ? request.messages.map((m) => String((m as { content?: unknown })?.content ?? "")).join("")
    : ""
  const promptTokens = Math.max(1, Math.ceil(text.length / 4))
  const completionTokens =
    typeof request.max_tokens === "number" && request.max_tokens > 0 ? Math.floor(request.max_tokens) : 64
  const usd = promptTokens * Number(model.prompt) + completionTokens * Number(model.completion)
  const charged = charge(
    scenario,
    caller,
    Math.round(usd * 1e9) / 1e9,
    {
      model: model.id,
      ...(model.providers[0] === undefined ? {} : { provider: model.providers[0] }),
      requests: 1,
      promptTokens,
      completionTokens
    },
    now
  )
  if (charged._tag === "LimitReached") return errorReply(402, LIMIT_MESSAGE)
  return {
    status: 200,
    body: {
      id: `gen-${now.getTime()}-${caller.activity.length}`,
      object: "chat.completion",
      created: Math.floor(now.getTime() / 1000),
      model: model.id,
      provider: model.providers[0],
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "Simulated answer." } }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        cost: fromNano(charged.nano)
      }
    }
  }
}
