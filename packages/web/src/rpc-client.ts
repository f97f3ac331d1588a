import type { Rpc, RpcGroup } from "@effect/rpc"
import type { WebRpcs } from "@orw/domain/Rpc"
import type { Schema } from "effect"

/*
 * The web RPCs over `POST /rpc`, one JSON request per call, as `@effect/rpc`'s HTTP protocol with JSON
 * serialization sends it (`{_tag: "Request", id, tag, payload, headers}` in, `[{_tag: "Exit", ...}]` out), with
 * plain `fetch` and no Effect in the browser: the types come from the domain's `WebRpcs` (`import type`, erased at
 * build time), a payload is sent in its encoded form (a key or a password as the plain string the schema encodes
 * it to), and an answer is read as the server encodes it (rows are plain JSON; a refusal is the domain error's
 * encoded fields, `_tag` and `detail`, whose `detail` is its `message` as the decoded class has it).
 *
 * Calls resolve with the success value and reject with what a failed call meant for the UI:
 * - the server's refusal: the typed error (`_tag`, `detail`, `message`, its other fields);
 * - a defect the server sent: an `Error` with the defect's name and message (as `Schema.Defect` decodes it);
 * - no answer, a non-2xx answer, an answer that is not an RPC message: an {@link RpcClientError}, whose cause is
 *   shaped as @effect/platform's HttpClientError (`RequestError`; `ResponseError` with its status), which
 *   controllers/retry.ts's `isUnreachable` reads: no answer or a gateway status (502/503/504) is "the server is
 *   not there" (the page keeps its figures and retries); any other answer is a refusal.
 * Nothing of the payload (a key, a password) is ever put in an error.
 */

type Rpcs = RpcGroup.Rpcs<typeof WebRpcs>

/** The payload schema of an RPC. */
type PayloadSchema<R> = R extends Rpc.Rpc<infer _Tag, infer P, infer _S, infer _E, infer _M> ? P : never

/** What a call sends: the encoded form of the RPC's payload. */
type PayloadEncoded<R> = PayloadSchema<R>["Encoded"]

/** One method per RPC, named by its tag: the payload (if any) and an optional AbortSignal that cancels the call. */
export type WebRpcClient = {
  readonly [R in Rpcs as Rpc.Tag<R>]: [PayloadSchema<R>] extends [typeof Schema.Void]
    ? (payload?: undefined, signal?: AbortSignal) => Promise<Rpc.Success<R>>
    : (payload: PayloadEncoded<R>, signal?: AbortSignal) => Promise<Rpc.Success<R>>
}

/** The refusal of a call the server did not answer as an RPC (the `RpcClientError` of @effect/rpc, reason "Protocol"). */
export class RpcClientError extends Error {
  readonly _tag = "RpcClientError"
  readonly reason = "Protocol"
  constructor(
    message: string,
    override readonly cause?: unknown
  ) {
    super(message)
    this.name = "RpcClientError"
  }
}

const requestError = (cause: unknown) => ({ _tag: "RequestError", reason: "Transport", cause })
const responseError = (status: number) => ({ _tag: "ResponseError", reason: "StatusCode", response: { status } })

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const tagged =
  (tag: string) =>
  (u: unknown): u is Record<string, unknown> =>
    isObject(u) && u._tag === tag

/** A defect as `Schema.Defect` decodes it: `{name, message}` is an Error again; anything else its text. */
export const defectOf = (defect: unknown): unknown => {
  if (isObject(defect) && typeof defect.message === "string") {
    const error = new Error(defect.message, { cause: defect })
    if (typeof defect.name === "string") error.name = defect.name
    return error
  }
  return typeof defect === "string" ? defect : JSON.stringify(defect)
}

/** A refusal as the domain's class decodes it: its fields, with `detail` as its `message`. */
const refusalOf = (error: Record<string, unknown>): Error => {
  const refusal = Object.assign(new Error(String(error.detail)), error)
  refusal.name = String(error._tag)
  return refusal
}

const unreadable = () => new RpcClientError("An answer the client cannot read")

/** The failures of an encoded Cause, left to right: the first `Fail`'s error, else the first `Die`'s defect. */
const rejectionOf = (cause: unknown): unknown => {
  const fails: Array<unknown> = []
  const dies: Array<unknown> = []
  let interrupted = false
  const stack = [cause]
  while (stack.length > 0) {
    const current = stack.pop()
    if (!isObject(current)) throw unreadable()
    switch (current._tag) {
      case "Fail":
        fails.push(current.error)
        break
      case "Die":
        dies.push(current.defect)
        break
      case "Interrupt":
        interrupted = true
        break
      case "Sequential":
      case "Parallel":
        stack.push(current.right, current.left)
        break
      case "Empty":
        break
      default:
        throw unreadable()
    }
  }
  if (fails.length > 0) {
    const error = fails[0]
    if (!isObject(error) || typeof error._tag !== "string" || typeof error.detail !== "string") throw unreadable()
    return refusalOf(error)
  }
  if (dies.length > 0) return defectOf(dies[0])
  const exception = new Error(interrupted ? "The server interrupted the call" : "The call failed without a cause")
  exception.name = "InterruptedException"
  return exception
}

let nextId = 0

/** One call of the RPC tagged `tag`: resolves with its success, rejects as the module comment says. */
export const call = async (tag: string, payload: unknown, signal?: AbortSignal): Promise<unknown> => {
  const body = JSON.stringify({ _tag: "Request", id: String(++nextId), tag, payload: payload ?? {}, headers: [] })
  let response: Response
  try {
    response = await fetch("/rpc", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body,
      ...(signal === undefined ? {} : { signal })
    })
  } catch (cause) {
    throw new RpcClientError("The server cannot be reached", requestError(cause))
  }
  // Any other non-2xx answer (a 403 for a foreign Origin, a 400) is the server's refusal, not an RPC body.
  if (!response.ok) throw new RpcClientError(`The server answered ${response.status}`, responseError(response.status))
  let messages: unknown
  try {
    messages = await response.json()
  } catch (cause) {
    throw new RpcClientError(`The server answered ${response.status}`, cause)
  }
  const list: Array<unknown> = Array.isArray(messages) ? messages : [messages]
  const defect = list.find(tagged("Defect"))
  if (defect !== undefined) throw defectOf(defect.defect)
  const exit = list.find(tagged("Exit"))?.exit
  if (exit === undefined) throw new RpcClientError(`The server answered ${response.status}`)
  if (tagged("Success")(exit)) return exit.value
  if (tagged("Failure")(exit)) throw rejectionOf(exit.cause)
  throw unreadable()
}

/** The RPCs of {@link WebRpcs} the web app calls, by tag. */
const TAGS = [
  "me",
  "dashboard",
  "usage",
  "listKeys",
  "addKey",
  "renameKey",
  "setKeyActive",
  "deleteKey",
  "setKeyLimit",
  "syncKey",
  "listTokens",
  "createToken",
  "revokeToken",
  "changePassword",
  "deleteAccount",
  "listBudgets",
  "createBudget",
  "updateBudget",
  "deleteBudget",
  "listAlerts",
  "listWebhooks",
  "createWebhook",
  "deleteWebhook",
  "testWebhook",
  "listDeliveries"
] as const satisfies ReadonlyArray<keyof WebRpcClient>

/** Every RPC of the group is in {@link TAGS} (the compiler says which one is missing). */
type Missing = Exclude<keyof WebRpcClient, (typeof TAGS)[number]>
export const EVERY_RPC: [Missing] extends [never] ? ReadonlyArray<string> : Missing = TAGS

/** Builds the client: one method per RPC, keyed by tag. */
export const makeWebRpcClient = (): WebRpcClient =>
  Object.fromEntries(
    TAGS.map((tag) => [tag, (payload?: unknown, signal?: AbortSignal) => call(tag, payload, signal)])
  ) as unknown as WebRpcClient

/** The page's client (it holds no state but the request ids). */
export const rpc: WebRpcClient = makeWebRpcClient()
