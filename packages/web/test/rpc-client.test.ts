import { Rpc } from "@effect/rpc"
import { WebRpcs } from "@orw/domain/Rpc"
import { Cause, Exit, Option, Schema } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import { isUnreachable } from "../src/controllers/retry.js"
import { errorMessage } from "../src/controllers/server-task.js"
import { EVERY_RPC, makeWebRpcClient } from "../src/rpc-client.js"

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

/** What a call rejected with (undefined when it resolved). */
const failure = (call: Promise<unknown>): Promise<unknown> =>
  call.then(
    () => undefined,
    (error: unknown) => error
  )

const exitAnswer = (exit: unknown) => [{ _tag: "Exit", requestId: "1", exit }]

describe("the web RPC client (POST /rpc, @effect/rpc's JSON messages)", () => {
  it("sends one Request message with the encoded payload, and decodes the Exit's success", async () => {
    const calls = answer(
      exitAnswer({
        _tag: "Success",
        value: { id: "u1", email: "a@example.com", created_at: "2026-01-01T00:00:00Z" }
      })
    )
    const me = await makeWebRpcClient().me()
    expect(me.email).toBe("a@example.com")
    expect(calls[0]?.url).toBe("/rpc")
    expect(calls[0]?.init).toMatchObject({ method: "POST", credentials: "same-origin" })
    const sent = JSON.parse(String(calls[0]?.init.body))
    expect(sent).toMatchObject({ _tag: "Request", tag: "me", payload: {}, headers: [] })
  })

  it("a refusal arrives as the domain's tagged error; a non-RPC answer or no server as RpcClientError", async () => {
    answer(
      exitAnswer({
        _tag: "Failure",
        cause: { _tag: "Fail", error: { _tag: "KeyNotFound", detail: "API key not found" } }
      })
    )
    const client = makeWebRpcClient()
    const refused = await failure(client.deleteKey({ key_id: "k" }))
    expect(refused).toMatchObject({ _tag: "KeyNotFound", message: "API key not found" })
    expect(isUnreachable(refused)).toBe(false)
    answer({ detail: "Cross-origin request refused" }, 403)
    const forbidden = await failure(client.listKeys())
    expect(forbidden).toMatchObject({ _tag: "RpcClientError", message: "The server answered 403" })
    expect(isUnreachable(forbidden)).toBe(false)
    // The server stopping (503) or gone: "unreachable", so the page keeps its figures and retries.
    answer({ detail: "Shutting down" }, 503)
    expect(isUnreachable(await failure(client.listKeys()))).toBe(true)
    vi.stubGlobal("fetch", () => Promise.reject(new TypeError("Failed to fetch")))
    const gone = await failure(client.listKeys())
    expect(gone).toMatchObject({ _tag: "RpcClientError", message: "The server cannot be reached" })
    expect(isUnreachable(gone)).toBe(true)
    expect(errorMessage(gone)).toBe("The server cannot be reached: try again once it is back.")
  })

  it("sends a key as the plain string its schema encodes it to", async () => {
    const calls = answer(exitAnswer({ _tag: "Failure", cause: { _tag: "Empty" } }))
    await failure(makeWebRpcClient().addKey({ name: "n", key: "sk-or-v1-abc" }))
    expect(JSON.parse(String(calls[0]?.init.body)).payload).toEqual({ name: "n", key: "sk-or-v1-abc" })
  })

  it("rejects as the RPC's schemas decode the Exit: the failure first, else the defect", async () => {
    const client = makeWebRpcClient()
    const session = { _tag: "Unauthenticated", detail: "Session expired" }
    const unprocessable = {
      _tag: "Unprocessable",
      detail: "Invalid input",
      errors: [{ path: "new_password", message: "too short" }]
    }
    const defect = { name: "Error", message: "Invalid payload: name" }
    const causes = [
      { _tag: "Fail", error: session },
      { _tag: "Sequential", left: { _tag: "Die", defect }, right: { _tag: "Fail", error: unprocessable } },
      { _tag: "Parallel", left: { _tag: "Empty" }, right: { _tag: "Die", defect } },
      { _tag: "Die", defect: "a text" }
    ]
    const schema = Rpc.exitSchema(WebRpcs.requests.get("changePassword") as Rpc.Any) as unknown as Schema.Schema<
      Exit.Exit<unknown, unknown>,
      unknown
    >
    for (const cause of causes) {
      answer(exitAnswer({ _tag: "Failure", cause }))
      const ours = await failure(
        client.changePassword({ current_password: "a", new_password: "b", new_password_confirm: "b" })
      )
      // @effect/rpc's own reading of the same answer: the failure's class, else the squashed defect.
      const exit = Schema.decodeUnknownSync(schema)({ _tag: "Failure", cause })
      const theirs = Exit.isFailure(exit)
        ? Option.getOrElse(Cause.failureOption(exit.cause), () => Cause.squash(exit.cause))
        : undefined
      expect(errorMessage(ours)).toBe(errorMessage(theirs))
      expect((ours as { _tag?: unknown })._tag).toBe((theirs as { _tag?: unknown })._tag)
      expect((ours as { errors?: unknown }).errors).toEqual((theirs as { errors?: unknown }).errors)
    }
  })

  it("an RPC-level defect rejects with it; an answer without an Exit, or an unknown cause, is a protocol error", async () => {
    const client = makeWebRpcClient()
    answer([{ _tag: "Defect", defect: { name: "Error", message: "boom" } }])
    const defect = await failure(client.listKeys())
    expect(defect).toBeInstanceOf(Error)
    expect(errorMessage(defect)).toBe("boom")
    answer([])
    expect(await failure(client.listKeys())).toMatchObject({
      _tag: "RpcClientError",
      message: "The server answered 200"
    })
    answer(exitAnswer({ _tag: "Failure", cause: { _tag: "Fail", error: "no tag" } }))
    expect(await failure(client.listKeys())).toMatchObject({
      _tag: "RpcClientError",
      message: "An answer the client cannot read"
    })
  })

  it("has one method per RPC of WebRpcs, and aborts the request with the caller's signal", async () => {
    expect([...EVERY_RPC].sort()).toEqual([...WebRpcs.requests.keys()].sort())
    const client = makeWebRpcClient() as unknown as Record<string, unknown>
    for (const tag of WebRpcs.requests.keys()) expect(typeof client[tag]).toBe("function")
    const calls = answer(exitAnswer({ _tag: "Success", value: [] }))
    const controller = new AbortController()
    await makeWebRpcClient().listKeys(undefined, controller.signal)
    expect(calls[0]?.init.signal).toBe(controller.signal)
  })
})
