/*
 * What a read does while the server cannot be reached: it keeps the figures already on screen and tries
 * again with a growing pause, until the server answers or the page is left. Pure (no Lit, no DOM) so
 * its transitions are unit-tested in packages/web/test/retry.test.ts.
 */

/** The first pause after a failed attempt, and the longest. */
export const FIRST_RETRY_MS = 500
export const MAX_RETRY_MS = 5_000

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" ? u._tag : undefined

const field = (u: unknown, name: string): unknown =>
  typeof u === "object" && u !== null && name in u ? (u as Record<string, unknown>)[name] : undefined

/** Gateway answers of a server that is stopping, restarting or behind a proxy that lost it. */
const UNAVAILABLE = new Set([502, 503, 504])

/**
 * Whether `error` says "the server is not there" rather than "the server said no": a failed fetch
 * (`RequestError`), a gateway status (`ResponseError` 502/503/504), or an RPC protocol error caused by
 * either. A refusal the server decided (a domain error, 4xx) is not.
 */
export const isUnreachable = (error: unknown): boolean => {
  switch (tagOf(error)) {
    case "RequestError":
      return true
    case "ResponseError": {
      const status = field(field(error, "response"), "status")
      return typeof status === "number" && UNAVAILABLE.has(status)
    }
    case "RpcClientError":
      return isUnreachable(field(error, "cause"))
    default:
      return field(error, "unreachable") === true
  }
}

/** The pause before attempt `n + 1` after `n` failed attempts (n ≥ 1): doubling from {@link FIRST_RETRY_MS}, capped. */
export const retryDelay = (failures: number): number =>
  Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1))

/** One attempt's outcome: the value of a call, or what it rejected with. */
export type Attempt<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: unknown }

export interface RetryHooks {
  /** After a failed attempt that will be retried in `delayMs`. */
  readonly offline: (delayMs: number, failures: number) => void
  /** Once an attempt got an answer (a value or a refusal) after being offline, or when giving up (aborted). */
  readonly settled: () => void
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener("abort", onAbort, { once: true })
  })

/**
 * Runs `attempt` until it answers: an unreachable server is tried again after {@link retryDelay} (each
 * time reported through `hooks.offline`), anything else resolves (a value) or rejects (the error) at once.
 * `hooks.settled` is called once at the end if `offline` was called, whatever the end.
 */
export const untilAnswered = async <A>(
  attempt: () => Promise<Attempt<A>>,
  signal: AbortSignal,
  hooks: RetryHooks
): Promise<A> => {
  let failures = 0
  try {
    for (;;) {
      const outcome = await attempt()
      if (outcome.ok) return outcome.value
      if (!isUnreachable(outcome.error) || signal.aborted) throw outcome.error
      failures++
      const delay = retryDelay(failures)
      hooks.offline(delay, failures)
      await hooks.sleep(delay, signal)
    }
  } finally {
    if (failures > 0) hooks.settled()
  }
}

/** The tasks waiting for the server, by id: the app is offline while any is. */
export type Waiting = ReadonlySet<number>

export const markOffline = (waiting: Waiting, id: number): Waiting =>
  waiting.has(id) ? waiting : new Set(waiting).add(id)

export const markSettled = (waiting: Waiting, id: number): Waiting => {
  if (!waiting.has(id)) return waiting
  const next = new Set(waiting)
  next.delete(id)
  return next
}
