/** One RPC call as the web client sends it (`@effect/rpc` JSON serialization): a single request message. */
export const rpcBody = (tag: string, payload: Record<string, unknown> = {}) =>
  JSON.stringify({ _tag: "Request", id: "1", tag, payload, headers: [] })

/** Posts one RPC call to `origin`'s /rpc with the given headers; returns the status and parsed answer. */
export const postRpc = async (
  origin: string,
  tag: string,
  headers: Record<string, string>,
  payload: Record<string, unknown> = {}
) => {
  const response = await fetch(`${origin}/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: rpcBody(tag, payload)
  })
  const text = await response.text()
  return { status: response.status, text, json: text === "" ? undefined : (JSON.parse(text) as unknown) }
}
