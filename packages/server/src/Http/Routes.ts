import { HttpApi, HttpMethod } from "@effect/platform"
import { OrwApi } from "@orw/domain/Api"
import { SPA_ROUTES } from "./Static.js"

/** One route the server answers: its method, a matcher of its path, and whether it reads a JSON body. */
interface KnownRoute {
  readonly method: string
  readonly pattern: RegExp
  readonly readsBody: boolean
}

/** The fixed GET routes beside the contract's (the web app's catch-all for its files is not one of them). */
const FIXED_GET = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/", ...SPA_ROUTES]

const patternOf = (path: string) => new RegExp(`^${path.replace(/:[^/]+/g, "[^/]+")}$`)

const known = (): ReadonlyArray<KnownRoute> => {
  const routes: Array<KnownRoute> = FIXED_GET.map((path) => ({
    method: "GET",
    pattern: patternOf(path),
    readsBody: false
  }))
  HttpApi.reflect(OrwApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint, payloads }) =>
      routes.push({
        method: endpoint.method,
        pattern: patternOf(endpoint.path),
        readsBody: HttpMethod.hasBody(endpoint.method) && payloads.size > 0
      })
  })
  return routes
}

const ROUTES = known()

const rawPath = (url: string) => {
  if (url.startsWith("/")) return url.split(/[?#]/)[0] ?? "/"
  try {
    return new URL(url).pathname
  } catch {
    return "/"
  }
}

/** A request URL's path (origin or absolute form) as the router matches it: no query, no repeated or trailing slash. */
export const routePath = (url: string) => {
  const path = rawPath(url).replace(/\/{2,}/g, "/")
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path
}

/** The methods the server answers on a path (GET implies HEAD), empty for a path it does not know. */
export const allowedMethods = (url: string): ReadonlyArray<string> => {
  const path = routePath(url)
  const methods = ROUTES.filter((r) => r.pattern.test(path)).map((r) => r.method)
  return methods.includes("GET") ? [...methods, "HEAD"] : methods
}

/** Whether a request with this method and URL goes to an endpoint that reads a JSON body. */
export const readsJsonBody = (method: string, url: string) => {
  const path = routePath(url)
  return ROUTES.some((r) => r.readsBody && r.method === method && r.pattern.test(path))
}
