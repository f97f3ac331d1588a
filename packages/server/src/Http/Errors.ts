import { HttpApiBuilder, HttpApiError, HttpServerError, HttpServerResponse } from "@effect/platform"
import { type FieldError, OrwApi, Unprocessable } from "@orw/domain/Api"
import { Cause, Effect, Option } from "effect"

const MAX_MESSAGE = 200

/** One problem per field: an optional field's failure also reports "Expected undefined", which says nothing. */
const fieldErrors = (error: HttpApiError.HttpApiDecodeError): Array<FieldError> => {
  const byPath = new Map<string, string>()
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".")
    if (!byPath.has(path)) byPath.set(path, issue.message)
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

/** A `{"detail"}` response. */
export const detailResponse = (status: number, detail: string) => HttpServerResponse.unsafeJson({ detail }, { status })

/**
 * The response to a failure nothing else answered: unknown route 404, unreadable body 400 or 413, and
 * anything else 500. A 500 is logged with the request id; the client sees no stack.
 */
export const failureResponse = (cause: Cause.Cause<unknown>, requestId: string) => {
  const error = Cause.squash(cause)
  if (error instanceof HttpServerError.RouteNotFound) return Effect.succeed(detailResponse(404, "Not Found"))
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
