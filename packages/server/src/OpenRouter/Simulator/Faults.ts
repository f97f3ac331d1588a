/** The endpoints the simulator serves, relative to its base path. */
export type Endpoint =
  | "/key"
  | "/activity"
  | "/keys"
  | "/credits"
  | "/models"
  | "/analytics/query"
  | "/chat/completions"
  | "/keys/{hash}"

/** A fault the simulator injects instead of (or on top of) the normal response. */
export type Fault =
  | { readonly _tag: "Status"; readonly status: number; readonly message: string; readonly retryAfter?: string }
  | { readonly _tag: "Latency"; readonly ms: number }
  | { readonly _tag: "Truncated" }
  | { readonly _tag: "Malformed" }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "MapBody"; readonly f: (body: { readonly data: unknown }) => unknown }

const status = (code: number, message: string, retryAfterSeconds?: number | string): Fault =>
  retryAfterSeconds === undefined
    ? { _tag: "Status", status: code, message }
    : { _tag: "Status", status: code, message, retryAfter: String(retryAfterSeconds) }

const mapData = (f: (data: Record<string, unknown>) => unknown): Fault => ({
  _tag: "MapBody",
  f: (body) => {
    const data = body.data
    return {
      ...body,
      data: Array.isArray(data)
        ? data.map((item) => (isRecord(item) ? f(item) : item))
        : isRecord(data)
          ? f(data)
          : data
    }
  }
})

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/** Constructors of {@link Fault}s. */
export const Fault = {
  /** Any status with OpenRouter's error envelope. */
  status,
  unauthorized: (): Fault => status(401, "User not found."),
  paymentRequired: (): Fault => status(402, "Insufficient credits"),
  forbidden: (): Fault => status(403, "Only management keys can perform this operation"),
  /** 429; `Retry-After` in seconds when given. */
  rateLimited: (retryAfterSeconds?: number | string): Fault => status(429, "Rate limit exceeded", retryAfterSeconds),
  /** 503; `Retry-After` in seconds when given. */
  unavailable: (retryAfterSeconds?: number | string): Fault => status(503, "Service unavailable", retryAfterSeconds),
  serverError: (): Fault => status(500, "Internal Server Error"),
  /** Delays the normal response. */
  latency: (ms: number): Fault => ({ _tag: "Latency", ms }),
  /** A 200 whose JSON body is cut in half (with a matching Content-Length). */
  truncated: (): Fault => ({ _tag: "Truncated" }),
  /** A 200 whose body is not JSON. */
  malformed: (): Fault => ({ _tag: "Malformed" }),
  /** The socket is destroyed without a response. */
  reset: (): Fault => ({ _tag: "Reset" }),
  /** Rewrites the normal JSON body. */
  mapBody: (f: (body: { readonly data: unknown }) => unknown): Fault => ({ _tag: "MapBody", f }),
  /** Rewrites `data` (each item when it is a list). */
  mapData,
  /** Drops a field from `data` (from each item when it is a list). */
  omitField: (field: string): Fault =>
    mapData((data) => Object.fromEntries(Object.entries(data).filter(([k]) => k !== field))),
  /** Adds fields to `data` (to each item when it is a list). */
  addFields: (fields: Record<string, unknown>): Fault => mapData((data) => ({ ...data, ...fields }))
}

interface Rule {
  readonly endpoint: Endpoint | "*"
  readonly fault: Fault
  remaining: number
}

/** Fault rules, first match wins: "the next N calls to /key fail with X". */
export class FaultQueue {
  private rules: Array<Rule> = []

  /** Queues `fault` for the next `times` calls to `endpoint` (`Infinity`: until cleared). */
  add(endpoint: Endpoint | "*", fault: Fault, times = 1): void {
    this.rules.push({ endpoint, fault, remaining: times })
  }

  /** Takes the fault for a call to `endpoint`, if any rule matches. */
  take(endpoint: string): Fault | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && (r.endpoint === "*" || r.endpoint === endpoint))
    if (rule === undefined) return undefined
    rule.remaining -= 1
    this.rules = this.rules.filter((r) => r.remaining > 0)
    return rule.fault
  }

  /** Drops all rules. */
  clear(): void {
    this.rules = []
  }

  /** How many rules still wait. */
  get pending(): number {
    return this.rules.length
  }
}

/** The body of a reply as sent, after the body faults (rewritten, truncated, malformed). */
export const renderBody = (reply: { readonly status: number; readonly body: unknown }, fault?: Fault): string => {
  const body = JSON.stringify(
    fault?._tag === "MapBody" && reply.status === 200 ? fault.f(asEnvelope(reply.body)) : reply.body
  )
  switch (fault?._tag) {
    case "Truncated":
      return body.slice(0, Math.floor(body.length / 2))
    case "Malformed":
      return `{"data": {"label": 'sk-or-v1-???', usage: NaN,}`
    default:
      return body
  }
}

const asEnvelope = (body: unknown): { readonly data: unknown } =>
  isRecord(body) && "data" in body ? { ...body, data: body.data } : { data: body }
