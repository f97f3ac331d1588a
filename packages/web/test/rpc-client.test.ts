import { Cause, Effect, Exit, Option } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { isUnreachable } from "../src/controllers/retry.js"
import { makeWebRpcClient } from "../src/rpc-client.js"

/** Answers every fetch with `body` (JSON) and records the requests. */
const answer = (body: unknown, status = 200) => {
  const calls: Array<{ url: string; init: RequestInit }> = []
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    calls.push({ url, init })
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })
  })
  return calls
}

afterEach(() => vi.unstubAllGlobals())

const failure = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe("the web RPC client (POST /rpc, @effect/rpc's JSON messages)", () => {
  it("sends one Request message with the encoded payload, and decodes the Exit's success", async () => {
    const calls = answer([
      {
        _tag: "Exit",
        requestId: "1",
        exit: { _tag: "Success", value: { id: "u1", email: "a@example.com", created_at: "2026-01-01T00:00:00Z" } }
      }
    ])
    const me = await Effect.runPromise(makeWebRpcClient().me())
    expect(me.email).toBe("a@example.com")
    expect(calls[0]?.url).toBe("/rpc")
    expect(calls[0]?.init).toMatchObject({ method: "POST", credentials: "same-origin" })
    const sent = JSON.parse(String(calls[0]?.init.body))
    expect(sent).toMatchObject({ _tag: "Request", tag: "me", headers: [] })
  })

  it("a refusal arrives as the domain's tagged error; a non-RPC answer or no server as RpcClientError", async () => {
    answer([
      {
        _tag: "Exit",
        requestId: "1",
        exit: {
          _tag: "Failure",
          cause: { _tag: "Fail", error: { _tag: "KeyNotFound", detail: "API key not found" } }
        }
      }
    ])
    const client = makeWebRpcClient()
    const refused = await Effect.runPromiseExit(client.deleteKey({ key_id: "k" as never }))
    expect(failure(refused)).toMatchObject({ _tag: "KeyNotFound" })
    expect(isUnreachable(failure(refused))).toBe(false)
    answer({ detail: "Cross-origin request refused" }, 403)
    const forbidden = failure(await Effect.runPromiseExit(client.listKeys()))
    expect(forbidden).toMatchObject({ _tag: "RpcClientError", message: "The server answered 403" })
    expect(isUnreachable(forbidden)).toBe(false)
    // The server stopping (503) or gone: "unreachable", so the page keeps its figures and retries.
    answer({ detail: "Shutting down" }, 503)
    expect(isUnreachable(failure(await Effect.runPromiseExit(client.listKeys())))).toBe(true)
    vi.stubGlobal("fetch", () => Promise.reject(new TypeError("Failed to fetch")))
    const gone = failure(await Effect.runPromiseExit(client.listKeys()))
    expect(gone).toMatchObject({ _tag: "RpcClientError", message: "The server cannot be reached" })
    expect(isUnreachable(gone)).toBe(true)
  })

  it("encodes payloads by the RPC's schema: a key travels as a plain string, never a Redacted object", async () => {
    const calls = answer([{ _tag: "Exit", requestId: "1", exit: { _tag: "Failure", cause: { _tag: "Empty" } } }])
    const { Redacted } = await import("effect")
    await Effect.runPromiseExit(makeWebRpcClient().addKey({ name: "n", key: Redacted.make("sk-or-v1-abc") }))
    expect(JSON.parse(String(calls[0]?.init.body)).payload).toEqual({ name: "n", key: "sk-or-v1-abc" })
  })
})
