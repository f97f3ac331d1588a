import * as NodeUtil from "node:util"
import * as NodeZlib from "node:zlib"
import { HttpBody, HttpServerResponse } from "@effect/platform"

/** Bodies below this are sent as they are: compressing them saves less than it costs. */
export const MIN_COMPRESS_BYTES = 1024

export type Encoding = "br" | "gzip"

/** Content types worth compressing (text; images and fonts are compressed already). */
export const isCompressible = (contentType: string | undefined) =>
  contentType !== undefined &&
  /^(text\/|application\/(json|javascript|manifest\+json|xml)|image\/svg\+xml)/i.test(contentType)

/**
 * The encoding to answer with from `Accept-Encoding`: br when the client takes it, else gzip, else none
 * (`identity`, `*`, and q=0 handled; a `*` accepts br).
 */
export const negotiate = (accept: string | undefined): Encoding | undefined => {
  if (accept === undefined || accept === "") return undefined
  const q = new Map<string, number>()
  for (const part of accept.toLowerCase().split(",")) {
    const [name = "", ...params] = part.trim().split(";")
    const weight = params.map((p) => p.trim()).find((p) => p.startsWith("q="))
    q.set(name.trim(), weight === undefined ? 1 : Number(weight.slice(2)) || 0)
  }
  const weightOf = (name: Encoding) => q.get(name) ?? q.get("*") ?? 0
  const br = weightOf("br")
  const gzip = weightOf("gzip")
  if (br > 0 && br >= gzip) return "br"
  return gzip > 0 ? "gzip" : undefined
}

/**
 * `body` compressed: `dynamic` for answers made per request (fast levels: brotli 4, gzip 6), `static` for
 * files compressed once and kept (best levels).
 */
export const compress = (body: Uint8Array, encoding: Encoding, effort: "dynamic" | "static"): Buffer =>
  encoding === "br"
    ? NodeZlib.brotliCompressSync(body, {
        params: {
          [NodeZlib.constants.BROTLI_PARAM_QUALITY]: effort === "static" ? 11 : 4,
          [NodeZlib.constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength
        }
      })
    : NodeZlib.gzipSync(body, { level: effort === "static" ? 9 : 6 })

const brotliAsync = NodeUtil.promisify(NodeZlib.brotliCompress)
const gzipAsync = NodeUtil.promisify(NodeZlib.gzip)

/** {@link compress} at the `static` levels on libuv's thread pool (a large bundle at brotli 11 takes a while). */
export const compressInBackground = (body: Uint8Array, encoding: Encoding): Promise<Buffer> =>
  encoding === "br"
    ? brotliAsync(body, {
        params: {
          [NodeZlib.constants.BROTLI_PARAM_QUALITY]: 11,
          [NodeZlib.constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength
        }
      })
    : gzipAsync(body, { level: 9 })

export const withVary = (vary: string | undefined) =>
  vary === undefined || vary === ""
    ? "Accept-Encoding"
    : /accept-encoding/i.test(vary)
      ? vary
      : `${vary}, Accept-Encoding`

/**
 * How an answer made in memory is sent to a client with `acceptEncoding`: nothing to do (undefined) unless it
 * is a text body of {@link MIN_COMPRESS_BYTES} or more not encoded already; then it says `Vary` either way, and
 * carries the encoding to compress with when the client takes one.
 */
export const encodeFor = (
  contentType: string | undefined,
  byteLength: number,
  headers: Readonly<Record<string, string | undefined>>,
  acceptEncoding: string | undefined
) => {
  if (byteLength < MIN_COMPRESS_BYTES || !isCompressible(contentType) || headers["content-encoding"] !== undefined) {
    return undefined
  }
  const encoding = negotiate(acceptEncoding)
  return {
    vary: withVary(headers.vary),
    encoding,
    compress: (body: Uint8Array) => (encoding === undefined ? body : compress(body, encoding, "dynamic"))
  }
}

/**
 * A response made in memory (JSON, the RPC's answers) compressed for a client that accepts it: only text
 * bodies of {@link MIN_COMPRESS_BYTES} or more, never one already encoded. Such a response says
 * `Vary: Accept-Encoding` either way, so a shared cache keeps the two forms apart.
 */
export const compressResponse = (
  response: HttpServerResponse.HttpServerResponse,
  acceptEncoding: string | undefined
): HttpServerResponse.HttpServerResponse => {
  const body = response.body
  if (body._tag !== "Uint8Array") return response
  const how = encodeFor(body.contentType, body.body.byteLength, response.headers, acceptEncoding)
  if (how === undefined) return response
  const vary = HttpServerResponse.setHeader(response, "vary", how.vary)
  if (how.encoding === undefined) return vary
  return HttpServerResponse.setBody(
    HttpServerResponse.setHeader(vary, "content-encoding", how.encoding),
    HttpBody.uint8Array(how.compress(body.body), body.contentType)
  )
}
