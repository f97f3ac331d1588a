import type { HttpApp } from "@effect/platform"
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { validateHost } from "../Config.js"

/**
 * Whether a call comes from the server's own origin: the `Origin` header must be present, an
 * http(s) URL whose host (with port) is the request's `Host`, and that host must be allowed.
 * The session cookie is SameSite=Strict already; this also stops cross-site and cross-port
 * pages on the same site (e.g. another service on localhost), which SameSite lets through.
 */
export const isSameOrigin = (
  origin: string | undefined,
  host: string | undefined,
  allowedHosts: ReadonlyArray<string>
): boolean => {
  if (origin === undefined || host === undefined || !validateHost(host, allowedHosts)) return false
  try {
    const url = new URL(origin)
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === host.trim().toLowerCase()
  } catch {
    return false
  }
}

/** Answers 403 `{"detail": ...}` to any request that {@link isSameOrigin} refuses, before `app` sees it. */
export const requireSameOrigin =
  (allowedHosts: ReadonlyArray<string>) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | HttpServerRequest.HttpServerRequest> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      isSameOrigin(request.headers.origin, request.headers.host, allowedHosts)
        ? app
        : Effect.succeed(
            HttpServerResponse.unsafeJson({ detail: "Cross-origin RPC calls are not allowed" }, { status: 403 })
          )
    )
