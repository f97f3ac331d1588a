import { Context, Effect } from "effect"
import type { Origin } from "../App/Origin.js"
import type { EventSource } from "../EventStore.js"

/** What the outermost middleware learned about the request; handlers read it for metadata and cookies. */
export interface RequestInfo {
  /** Generated per request and returned as `X-Request-Id`. */
  readonly requestId: string
  /** `X-Correlation-Id` when the client sent a well-formed one, else the request id. */
  readonly correlationId: string
  /** The socket's address, or the first `X-Forwarded-For` hop when TRUST_PROXY is set. */
  readonly clientIp: string
  /** Served over https (directly or per `X-Forwarded-Proto`): cookies get `Secure`. */
  readonly secure: boolean
  /** The API token the request authenticated with, once the API's token middleware accepted it. */
  readonly token: { id: string | undefined }
}

/** The current request's {@link RequestInfo}; a placeholder outside a request (e.g. in unit tests). */
export class CurrentRequest extends Context.Reference<CurrentRequest>()("orw/Http/CurrentRequest", {
  defaultValue: (): RequestInfo => ({
    requestId: "none",
    correlationId: "none",
    clientIp: "unknown",
    secure: false,
    token: { id: undefined }
  })
}) {}

/** The origin of commands issued by this request. */
export const requestOrigin = (source: EventSource = "web"): Effect.Effect<Origin> =>
  Effect.map(CurrentRequest, (request) => ({
    source,
    correlationId: request.correlationId,
    requestId: request.requestId
  }))
