import { HttpApiBuilder, HttpApiError, HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { type FieldError, OrwApi, Unprocessable } from "@orw/domain/Api"
import { Cause, Effect, Option } from "effect"
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./JsonDepth.js"
import { allowedMethods, readsJsonBody } from "./Routes.js"

const MAX_MESSAGE = 200

/**
 * A schema message without the value that failed (`, actual ...`): it may be a password or a key, or a
 * whole body sent as a JSON string. A body that is no object at all says so, not the schema's name.
 */
const withoutValue = (path: string, message: string) => {
  const expected = message.replace(/, actual [\s\S]*$/, "")
  return path === "" && expected.endsWith("(Encoded side)") ? "Expected a JSON object" : expected
}

/** One problem per field: an optional field's failure also reports "Expected undefined", which says nothing. */
const fieldErrors = (error: HttpApiError.HttpApiDecodeError): Array<FieldError> => {
  const byPath = new Map<string, string>()
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".")
    if (!byPath.has(path)) byPath.set(path, withoutValue(path, issue.message))
  }
  return [...byPath].map(([path, message]) => ({
    path,
    message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message
  }))
}

/** A request that does not match the schema: 422 with a readable `detail` and the field-level list. */
export const toUnprocessable = (error: HttpApiError.HttpApiDecodeError) => {
  const errors = fieldErrors(error)
  const detail = errors.map((e) => (e.path === "" ? e.message : `${e.path}: ${e.message}`)).join("; ")
  return new Unprocessable({ detail: detail === "" ? "Invalid request" : detail, errors })
}

/** API-level middleware: HttpApi's own decode errors (400 with its own body) become the contract's 422. */
export const DecodeErrorsLive = HttpApiBuilder.middleware(OrwApi, (app) =>
  Effect.catchAllCause(app, (cause) => {
    const failure: unknown = Option.getOrUndefined(Cause.failureOption(cause))
    return failure instanceof HttpApiError.HttpApiDecodeError
      ? Effect.fail(toUnprocessable(failure))
      : Effect.failCause(cause)
  })
)

/** The media type of a `Content-Type` header, lower case, without parameters. */
const mediaType = (contentType: string) => (contentType.split(";")[0] ?? "").trim().toLowerCase()

/** The `charset` parameter of a `Content-Type` header, lower case and unquoted, if it has one. */
const charsetOf = (contentType: string) => {
  for (const parameter of contentType.split(";").slice(1)) {
    const [name = "", ...value] = parameter.split("=")
    if (name.trim().toLowerCase() === "charset") return value.join("=").trim().replace(/^"|"$/g, "").toLowerCase()
  }
  return undefined
}

/** The body a JSON route accepts, by its `Content-Type` (none at all is read as JSON); else the 415's detail. */
const refusedContentType = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined) return undefined
  if (mediaType(contentType) !== "application/json") return "Content-Type must be application/json"
  const charset = charsetOf(contentType)
  // JSON is UTF-8 (RFC 8259): a body declared in another charset would be read as UTF-8 and mean something else.
  return charset === undefined || charset === "utf-8" || charset === "utf8"
    ? undefined
    : "Content-Type charset must be utf-8"
}

/**
 * API-level middleware: the contract's bodies are JSON in UTF-8. A body of another type (a form, text) or
 * charset is refused with 415 before it is read; no `Content-Type` at all is read as JSON.
 */
export const JsonBodiesLive = HttpApiBuilder.middleware(OrwApi, (app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const refused = readsJsonBody(request.method, request.url)
      ? refusedContentType(request.headers["content-type"])
      : undefined
    if (refused !== undefined) return Effect.succeed(detailResponse(415, refused))
    if (!readsJsonBody(request.method, request.url)) return app
    // The body is read once (the platform caches it); the handler's decoder then reads the same text.
    // An unreadable body (too large, cut off) dies with its RequestError, answered 413/400 by failureResponse.
    return Effect.flatMap(Effect.orDie(request.text), (text) =>
      nestsDeeperThan(text) ? Effect.succeed(detailResponse(400, TOO_DEEP)) : app
    )
  })
)

/** The answer to a body nested deeper than {@link MAX_JSON_DEPTH}. */
export const TOO_DEEP = `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`

/** A `{"detail"}` response. */
export const detailResponse = (status: number, detail: string) => HttpServerResponse.unsafeJson({ detail }, { status })

/**
 * No route for the request: OPTIONS on a known path is 204 and a method it does not answer 405, both with
 * `Allow`; an unknown path is 404.
 */
const noRoute = (request: HttpServerRequest.HttpServerRequest) => {
  const allowed = allowedMethods(request.url)
  if (allowed.length === 0) return detailResponse(404, "Not Found")
  const allow = { allow: [...allowed, "OPTIONS"].join(", ") }
  return request.method === "OPTIONS"
    ? HttpServerResponse.empty({ status: 204, headers: allow })
    : HttpServerResponse.setHeaders(detailResponse(405, "Method Not Allowed"), allow)
}

/**
 * The response to a failure nothing else answered: unknown route 404 (405 for a known path), unreadable
 * body 400 or 413, and anything else 500. A 500 is logged with the request id; the client sees no stack.
 */
export const failureResponse = (cause: Cause.Cause<unknown>, requestId: string) => {
  const error = Cause.squash(cause)
  if (error instanceof HttpServerError.RouteNotFound) return Effect.succeed(noRoute(error.request))
  if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
    const inner = error.cause
    if (inner instanceof Error && inner.message === "maxBytes exceeded") {
      return Effect.succeed(detailResponse(413, "Request body too large"))
    }
    const detail = inner instanceof SyntaxError ? "Malformed JSON body" : "Could not read the request body"
    return Effect.succeed(detailResponse(400, detail))
  }
  return Effect.as(
    Effect.logError("Unhandled error", cause),
    detailResponse(500, `Internal server error (request id ${requestId})`)
  )
}
