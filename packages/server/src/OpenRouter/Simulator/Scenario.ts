import { createHash, randomBytes } from "node:crypto"

/** Money inside the simulator: integer nano-dollars, so sums never drift. Printed as USD numbers. */
export type Nano = number

/** USD (as OpenRouter prints it) to integer nano-dollars. */
export const toNano = (usd: number): Nano => Math.round(usd * 1e9)

/** Integer nano-dollars to USD, the number OpenRouter would send. */
export const fromNano = (nano: Nano): number => nano / 1e9

/** One activity row as `GET /activity` reports it, money kept in nano-dollars. */
export interface SimActivityRow {
  date: string
  model: string
  model_permaslug: string
  endpoint_id: string
  provider_name: string
  usage: Nano
  byok_usage_inference: Nano
  requests: number
  prompt_tokens: number
  completion_tokens: number
  reasoning_tokens: number
}

/** Usage figures set directly on a key, on top of what its activity rows add up to. */
export interface UsageBase {
  total: Nano
  daily: Nano
  weekly: Nano
  monthly: Nano
}

/** A key of the scenario. Mutable: tests flip `disabled`, change `limit`, and so on. */
export interface SimKey {
  readonly key: string
  readonly hash: string
  readonly label: string
  name: string
  limit: number | null
  limit_reset: string | null
  include_byok_in_limit: boolean
  disabled: boolean
  is_management_key: boolean
  /** `undefined` leaves the field out of responses, as OpenRouter may do. */
  expires_at?: string | null
  created_at: string
  updated_at: string | null
  usage: UsageBase
  byokUsage: UsageBase
  activity: Array<SimActivityRow>
}

/** A model of the public `/models` catalogue; prices are decimal strings of USD per token. */
export interface SimModel {
  readonly id: string
  readonly name: string
  readonly permaslug: string
  readonly providers: ReadonlyArray<string>
  readonly prompt: string
  readonly completion: string
}

/** Everything the simulator serves. Mutable on purpose: tests change it between calls. */
export interface Scenario {
  keys: Array<SimKey>
  models: Array<SimModel>
  /** `totalUsage` undefined means: the sum of all keys' all-time usage. */
  credits: { totalCredits: Nano; totalUsage?: Nano }
}

/** Fields accepted by {@link addKey}; money in USD. */
export interface KeyInit {
  readonly key?: string
  readonly name?: string
  readonly limit?: number | null
  readonly limitReset?: string | null
  readonly includeByokInLimit?: boolean
  readonly disabled?: boolean
  readonly isManagementKey?: boolean
  readonly expiresAt?: string | null
  readonly createdAt?: string
  readonly usage?: Partial<Record<keyof UsageBase, number>>
  readonly byokUsage?: Partial<Record<keyof UsageBase, number>>
}

/** A fresh key string: `sk-or-v1-` + 64 lowercase hex. */
export const generateKey = (bytes: Uint8Array = randomBytes(32)): string =>
  `sk-or-v1-${Buffer.from(bytes).toString("hex")}`

/** SHA-256 hex of the key string: the `hash` of `/keys` and the `/activity` filter. */
export const hashKey = (key: string): string => createHash("sha256").update(key).digest("hex")

/** The masked key: `sk-or-v1-` + first 3 + `...` + last 3 hex chars. */
export const labelOf = (key: string): string => {
  const hex = key.slice("sk-or-v1-".length)
  return `sk-or-v1-${hex.slice(0, 3)}...${hex.slice(-3)}`
}

// id, name, version of the permaslug, providers, USD per prompt token, USD per completion token
const MODELS: ReadonlyArray<readonly [string, string, string, string, string, string]> = [
  ["openai/gpt-4.1", "OpenAI: GPT-4.1", "2025-04-14", "OpenAI,Azure", "0.000002", "0.000008"],
  ["openai/gpt-4.1-mini", "OpenAI: GPT-4.1 Mini", "2025-04-14", "OpenAI", "0.0000004", "0.0000016"],
  ["anthropic/claude-sonnet-4", "Anthropic: Claude Sonnet 4", "20250514", "Anthropic,Google", "0.000003", "0.000015"],
  ["google/gemini-2.5-flash", "Google: Gemini 2.5 Flash", "001", "Google AI Studio,Google", "0.0000003", "0.0000025"],
  ["meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B", "v1", "DeepInfra,Together", "0.00000013", "0.0000004"],
  ["deepseek/deepseek-chat-v3", "DeepSeek: V3", "0324", "DeepSeek,Fireworks", "0.00000027", "0.0000011"]
]

/** The default model catalogue: a few models across providers. */
export const defaultModels = (): Array<SimModel> =>
  MODELS.map(([id, name, version, providers, prompt, completion]) => ({
    id,
    name,
    permaslug: `${id}-${version}`,
    providers: providers.split(","),
    prompt,
    completion
  }))

/** An empty scenario with the default models and $100 of credits. */
export const emptyScenario = (): Scenario => ({
  keys: [],
  models: defaultModels(),
  credits: { totalCredits: toNano(100) }
})

const base = (u: KeyInit["usage"]): UsageBase => ({
  total: toNano(u?.total ?? 0),
  daily: toNano(u?.daily ?? 0),
  weekly: toNano(u?.weekly ?? 0),
  monthly: toNano(u?.monthly ?? 0)
})

/** Adds a key to the scenario and returns it; the key string is generated unless given. */
export const addKey = (scenario: Scenario, init: KeyInit, now: Date): SimKey => {
  const key = init.key ?? generateKey()
  const simKey: SimKey = {
    key,
    hash: hashKey(key),
    label: labelOf(key),
    name: init.name ?? `Key ${scenario.keys.length + 1}`,
    limit: init.limit ?? null,
    limit_reset: init.limitReset ?? null,
    include_byok_in_limit: init.includeByokInLimit ?? false,
    disabled: init.disabled ?? false,
    is_management_key: init.isManagementKey ?? false,
    created_at: init.createdAt ?? now.toISOString(),
    updated_at: null,
    usage: base(init.usage),
    byokUsage: base(init.byokUsage),
    activity: []
  }
  if (init.expiresAt !== undefined) simKey.expires_at = init.expiresAt
  scenario.keys.push(simKey)
  return simKey
}
