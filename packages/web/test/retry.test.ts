import { describe, expect, it } from "vitest"
import {
  type Attempt,
  isUnreachable,
  MAX_RETRY_MS,
  markOffline,
  markSettled,
  retryDelay,
  untilAnswered
} from "../src/controllers/retry.js"

const unreachable = { _tag: "RpcClientError", reason: "Protocol", cause: { _tag: "RequestError", reason: "Transport" } }
const stopping = { _tag: "RpcClientError", cause: { _tag: "ResponseError", response: { status: 503 } } }
const refused = { _tag: "KeyNotFound", message: "Key not found" }

/** Runs `untilAnswered` over scripted outcomes, recording what the hooks saw. */
const script = (outcomes: ReadonlyArray<Attempt<string>>, controller = new AbortController(), onOffline = () => {}) => {
  const seen: Array<string> = []
  let i = 0
  const result = untilAnswered(
    async () => {
      const outcome = outcomes[i++]
      if (outcome === undefined) throw new Error("attempted once too often")
      seen.push(`attempt ${i}`)
      return outcome
    },
    controller.signal,
    {
      offline: (delay, failures) => {
        seen.push(`offline ${failures} (retry in ${delay} ms)`)
        onOffline()
      },
      settled: () => seen.push("settled"),
      sleep: async (ms, signal) => {
        seen.push(`sleep ${ms}`)
        if (signal.aborted) throw signal.reason
      }
    }
  )
  return { result, seen }
}

describe("what counts as 'the server cannot be reached'", () => {
  it("a failed fetch or a gateway status, also inside an RPC protocol error", () => {
    expect(isUnreachable(unreachable)).toBe(true)
    expect(isUnreachable(stopping)).toBe(true)
    expect(isUnreachable({ _tag: "RequestError" })).toBe(true)
    expect(isUnreachable({ _tag: "ResponseError", response: { status: 502 } })).toBe(true)
    expect(isUnreachable({ _tag: "AuthError", unreachable: true })).toBe(true)
  })

  it("not a refusal the server decided, nor a defect", () => {
    expect(isUnreachable(refused)).toBe(false)
    expect(isUnreachable({ _tag: "Unauthenticated" })).toBe(false)
    expect(isUnreachable({ _tag: "ResponseError", response: { status: 400 } })).toBe(false)
    expect(isUnreachable({ _tag: "RpcClientError", cause: new Error("Expected an array") })).toBe(false)
    expect(isUnreachable(new Error("boom"))).toBe(false)
    expect(isUnreachable(undefined)).toBe(false)
  })
})

describe("the task controller's retries (state transitions)", () => {
  it("pauses double each time, capped", () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(retryDelay)).toEqual([500, 1000, 2000, 4000, 5000, 5000, MAX_RETRY_MS])
  })

  it("answered at once: no offline, no settled", async () => {
    const { result, seen } = script([{ ok: true, value: "figures" }])
    expect(await result).toBe("figures")
    expect(seen).toEqual(["attempt 1"])
  })

  it("offline, retrying, then recovered when the server is back", async () => {
    const { result, seen } = script([
      { ok: false, error: unreachable },
      { ok: false, error: stopping },
      { ok: true, value: "fresh figures" }
    ])
    expect(await result).toBe("fresh figures")
    expect(seen).toEqual([
      "attempt 1",
      "offline 1 (retry in 500 ms)",
      "sleep 500",
      "attempt 2",
      "offline 2 (retry in 1000 ms)",
      "sleep 1000",
      "attempt 3",
      "settled"
    ])
  })

  it("a refusal is not retried: it rejects with the server's error", async () => {
    const { result, seen } = script([{ ok: false, error: refused }])
    await expect(result).rejects.toBe(refused)
    expect(seen).toEqual(["attempt 1"])
  })

  it("a refusal after being offline still settles (the notice goes away)", async () => {
    const { result, seen } = script([
      { ok: false, error: unreachable },
      { ok: false, error: refused }
    ])
    await expect(result).rejects.toBe(refused)
    expect(seen.at(-1)).toBe("settled")
  })

  it("leaving the page (abort) while offline stops retrying and settles", async () => {
    const controller = new AbortController()
    controller.abort(new Error("left the page"))
    const { result, seen } = script([{ ok: false, error: unreachable }], controller)
    await expect(result).rejects.toBe(unreachable)
    expect(seen).toEqual(["attempt 1"])
    const later = new AbortController()
    const run = script([{ ok: false, error: unreachable }], later, () => later.abort(new Error("left the page")))
    await expect(run.result).rejects.toThrow("left the page")
    expect(run.seen).toEqual(["attempt 1", "offline 1 (retry in 500 ms)", "sleep 500", "settled"])
  })

  it("the app is offline while any task waits, online once all settled", () => {
    const a = markOffline(new Set(), 1)
    const b = markOffline(a, 2)
    expect(markOffline(b, 2)).toBe(b)
    expect([...markSettled(b, 1)]).toEqual([2])
    expect(markSettled(markSettled(b, 1), 2).size).toBe(0)
    expect(markSettled(a, 7)).toBe(a)
  })
})
