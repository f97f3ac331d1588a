import { Rpc, type RpcClient, RpcClientError, type RpcGroup } from "@effect/rpc"
import { WebRpcs } from "@orw/domain/Rpc"
import { Effect, type Exit, Schema } from "effect"

/*
 * The web RPCs over `POST /rpc`, one JSON request per call, as `@effect/rpc`'s HTTP protocol with JSON
 * serialization sends it (`[{_tag: "Request", id, tag, payload, headers}]` in, `[{_tag: "Exit", ...}]` out).
 * @effect/rpc's own client does the same but carries streaming (Stream, Channel, Mailbox) and
 * @effect/platform's HttpClient, about a fifth of the web bundle, for calls that never stream: this client
 * encodes and decodes with the very schemas of `WebRpcs` (`Rpc.exitSchema`), so calls and answers are typed and
 * checked the same way, and fails with the same `RpcClientError` when the server cannot be reached.
 */

/** The typed client of {@link WebRpcs}: one method per RPC, as `RpcClient.make(WebRpcs)` would give. */
export type WebRpcClient = RpcClient.RpcClient<RpcGroup.Rpcs<typeof WebRpcs>>

let nextId = 0

const protocolError = (message: string, cause?: unknown) =>
  new RpcClientError.RpcClientError({ reason: "Protocol", message, cause })

/*
 * Causes shaped as @effect/platform's HttpClientError (`RequestError`, `ResponseError` with its status), as
 * controllers/retry.ts's `isUnreachable` reads them: no answer or a gateway status (502/503/504) is "the server
 * is not there" (the page keeps its figures and retries); any other non-2xx answer is a refusal.
 */
const requestError = (cause: unknown) => ({ _tag: "RequestError", reason: "Transport", cause })
const responseError = (status: number) => ({ _tag: "ResponseError", reason: "StatusCode", response: { status } })

interface ExitMessage {
  readonly _tag: "Exit"
  readonly exit: unknown
}
interface DefectMessage {
  readonly _tag: "Defect"
  readonly defect: unknown
}
const isMessage =
  <T extends string>(tag: T) =>
  (u: unknown): u is { readonly _tag: T } =>
    typeof u === "object" && u !== null && "_tag" in u && u._tag === tag

/** One call: the payload encoded by the RPC's schema, the answer's exit decoded by its exit schema. */
const call = (rpc: Rpc.Any, payload: unknown): Effect.Effect<unknown, unknown> =>
  Effect.gen(function* () {
    // The group's schemas need no services (the domain's are plain data), whatever the generic types allow.
    const payloadSchema = (rpc as unknown as Rpc.AnyWithProps).payloadSchema as Schema.Schema<unknown, unknown>
    const exitSchema = Rpc.exitSchema(rpc) as unknown as Schema.Schema<Exit.Exit<unknown, unknown>, unknown>
    const encoded = yield* Effect.orDie(Schema.encodeUnknown(payloadSchema)(payload ?? {}))
    const body = JSON.stringify({ _tag: "Request", id: String(++nextId), tag: rpc._tag, payload: encoded, headers: [] })
    const response = yield* Effect.tryPromise({
      try: (signal) =>
        fetch("/rpc", {
          method: "POST",
          credentials: "same-origin",
          headers: { "content-type": "application/json" },
          body,
          signal
        }),
      catch: (cause) => protocolError("The server cannot be reached", requestError(cause))
    })
    // Any other non-2xx answer (a 403 for a foreign Origin, a 400) is the server's refusal, not an RPC body.
    if (!response.ok)
      return yield* Effect.fail(protocolError(`The server answered ${response.status}`, responseError(response.status)))
    const messages: unknown = yield* Effect.tryPromise({
      try: () => response.json(),
      catch: (cause) => protocolError(`The server answered ${response.status}`, cause)
    })
    const list = Array.isArray(messages) ? messages : [messages]
    const defect = list.find(isMessage("Defect")) as DefectMessage | undefined
    if (defect !== undefined) return yield* Effect.die(defect.defect)
    const exit = list.find(isMessage("Exit")) as ExitMessage | undefined
    if (exit === undefined) return yield* Effect.fail(protocolError(`The server answered ${response.status}`))
    const decoded = yield* Schema.decodeUnknown(exitSchema)(exit.exit).pipe(
      Effect.mapError((cause) => protocolError("An answer the client cannot read", cause))
    )
    return yield* decoded
  })

/** Builds the client from the group's RPCs (their tags are the method names). */
export const makeWebRpcClient = (): WebRpcClient => {
  const methods: Record<string, (payload?: unknown) => Effect.Effect<unknown, unknown>> = {}
  for (const rpc of WebRpcs.requests.values()) methods[rpc._tag] = (payload) => call(rpc, payload)
  // The methods are the group's, keyed by tag, with the group's schemas: the shape `RpcClient.make` types.
  return methods as unknown as WebRpcClient
}
