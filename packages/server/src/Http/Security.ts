import type { HttpServerRequest } from "@effect/platform"
import { validateHost } from "../Config.js"

const BASE_CSP = {
  "default-src": "'self'",
  "script-src": "'self'",
  "style-src": "'self'",
  "img-src": "'self' data:",
  "font-src": "'self'",
  "connect-src": "'self'",
  "object-src": "'none'",
  "frame-ancestors": "'none'",
  "base-uri": "'self'",
  "form-action": "'self'"
}

const render = (directives: Record<string, string>) =>
  Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join("; ")

/** The CSP of every response: scripts and styles from our own origin only, no framing, no plugins. */
export const APP_CSP = render(BASE_CSP)

/** /docs relaxes only what Swagger UI needs: inline styles (never scripts). */
export const DOCS_CSP = render({ ...BASE_CSP, "style-src": "'self' 'unsafe-inline'" })

const isDocs = (path: string) => path === "/docs" || path.startsWith("/docs/")

const headersWith = (csp: string): Readonly<Record<string, string>> =>
  Object.freeze({
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()"
  })

// Built once: every response spreads one of these two objects (no per-request rendering or allocation).
const APP_HEADERS = headersWith(APP_CSP)
const DOCS_HEADERS = headersWith(DOCS_CSP)

/** The headers every response carries, errors and 404s included (a shared, frozen object: copy to change it). */
export const securityHeaders = (path: string): Readonly<Record<string, string>> =>
  isDocs(path) ? DOCS_HEADERS : APP_HEADERS

/** Whether the request's `Host` is one of ALLOWED_HOSTS. */
export const hostAllowed = (request: HttpServerRequest.HttpServerRequest, allowedHosts: ReadonlyArray<string>) =>
  validateHost(request.headers.host, allowedHosts)

/**
 * One spelling per client address: an IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`) is the IPv4
 * address, and every loopback address (127.0.0.0/8, `::1`) is one client, whichever listener it reached.
 */
export const normalizeIp = (ip: string): string => {
  const lower = ip.trim().toLowerCase()
  const v4 = lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower
  return v4 === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) ? "loopback" : v4
}

/**
 * Where the request comes from (see {@link normalizeIp}): the socket's address, or with TRUST_PROXY the first `X-Forwarded-For`
 * hop (only behind a proxy that sets it: otherwise a client could pick its own rate-limit bucket).
 */
export const clientIp = (request: HttpServerRequest.HttpServerRequest, trustProxy: boolean) =>
  clientIpOf(
    request.headers["x-forwarded-for"],
    request.remoteAddress._tag === "Some" ? request.remoteAddress.value : undefined,
    trustProxy
  )

/** {@link clientIp} from the raw `X-Forwarded-For` header and the socket's address. */
export const clientIpOf = (
  forwardedFor: string | undefined,
  remoteAddress: string | undefined,
  trustProxy: boolean
) => {
  const forwarded = trustProxy ? forwardedFor?.split(",")[0]?.trim() : undefined
  return normalizeIp(forwarded !== undefined && forwarded !== "" ? forwarded : (remoteAddress ?? "unknown"))
}

/** Served over https: the request's own URL, or `X-Forwarded-Proto: https` from a proxy (or COOKIE_SECURE). */
export const isSecure = (request: HttpServerRequest.HttpServerRequest, forceSecure: boolean) =>
  forceSecure ||
  request.headers["x-forwarded-proto"]?.split(",")[0]?.trim().toLowerCase() === "https" ||
  request.url.startsWith("https:")
