import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import type * as NodeStream from "node:stream"
import { fileURLToPath } from "node:url"
import { HttpApiBuilder, HttpServerError, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpPlatform } from "@effect/platform/HttpPlatform"
import { Config, Effect } from "effect"
import {
  compressInBackground,
  type Encoding,
  isCompressible,
  MIN_COMPRESS_BYTES,
  negotiate,
  withVary
} from "./Compression.js"

/** The single-page app's routes: each answers with its index.html. */
export const SPA_ROUTES = [
  "/login",
  "/register",
  "/dashboard",
  "/keys",
  "/alerts",
  "/webhooks",
  "/tokens",
  "/profile"
] as const

/**
 * packages/web/dist seen from this module: from its source (packages/server/src/Http) or from the
 * server bundle (packages/server/dist), whichever exists.
 */
const defaultWebDist = () => {
  const candidates = ["../../../web/dist", "../../web/dist"].map((path) =>
    fileURLToPath(new URL(path, import.meta.url))
  )
  return candidates.find((dir) => NodeFs.existsSync(NodePath.join(dir, "index.html"))) ?? candidates[0]!
}

/** The web app's build: WEB_DIST_DIR, else packages/web/dist. */
const WebDist = Config.string("WEB_DIST_DIR").pipe(Config.withDefault(defaultWebDist()))

const isFile = (path: string) => {
  try {
    return NodeFs.statSync(path).isFile()
  } catch {
    return false
  }
}

const notFound = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
  Effect.fail(new HttpServerError.RouteNotFound({ request }))
)

/** The file under `dir` a URL path names, if it is one: no escaping the folder, no dot-files, no source maps. */
const resolveFile = (dir: string, url: string) => {
  let pathname: string
  try {
    pathname = decodeURIComponent(new URL(url, "http://local").pathname)
  } catch {
    return undefined
  }
  if (pathname.split("/").some((segment) => segment.startsWith("."))) return undefined
  // A build made with source maps (a developer's) must still not publish the source.
  if (pathname.toLowerCase().endsWith(".map")) return undefined
  const file = NodePath.resolve(dir, `.${pathname}`)
  return file.startsWith(`${dir}${NodePath.sep}`) && isFile(file) ? file : undefined
}

/** Paths that belong to the APIs and tools, never to the web app: their 404 stays `{"detail"}` JSON. */
const NOT_PAGES = /^\/(api|rpc|docs|openapi\.json|healthz|readyz|metrics)(\/|$)/i

/**
 * Whether a GET that matched no file is a browser opening a page (a deep link, a mistyped address): it
 * asks for HTML, names no API path and no file (no extension). It gets the app, whose own not-found page
 * says so, with status 404, instead of the raw JSON.
 */
export const isPageNavigation = (url: string, accept: string | undefined): boolean => {
  let pathname: string
  try {
    pathname = new URL(url, "http://local").pathname
  } catch {
    return false
  }
  const last = pathname.split("/").pop() ?? ""
  return (accept ?? "").includes("text/html") && !NOT_PAGES.test(pathname) && !last.includes(".")
}

/** Compressed forms of the web app's text files, made once per version of a file (its mtime and size). */
const compressed = new Map<string, { readonly version: string; readonly body: Promise<Buffer> }>()

const compressedFile = (file: string, stat: NodeFs.Stats, encoding: Encoding) => {
  const key = `${file}|${encoding}`
  const version = `${stat.mtimeMs}|${stat.size}`
  const hit = compressed.get(key)
  if (hit?.version === version) return hit.body
  const body = NodeFs.promises.readFile(file).then((raw) => compressInBackground(raw, encoding))
  compressed.set(key, { version, body })
  // A failed compression is not kept: the next request tries again.
  body.catch(() => compressed.delete(key))
  return body
}

/** An ETag names one representation: the compressed forms get their own. */
const etagFor = (etag: string | undefined, encoding: Encoding) =>
  etag?.endsWith('"') ? `${etag.slice(0, -1)}-${encoding}"` : etag

/**
 * `file` as `HttpServerResponse.file` serves it (ETag, Last-Modified, type, `cache-control`), and for a
 * text file of 1 KB or more `Vary: Accept-Encoding`, br or gzip when the client takes it: compressed
 * once at the best level and then answered from memory.
 */
const serveFile = (file: string, cacheControl: string) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const response = yield* Effect.orDie(HttpServerResponse.file(file, { headers: { "cache-control": cacheControl } }))
    const stat = NodeFs.statSync(file, { throwIfNoEntry: false })
    if (stat === undefined || stat.size < MIN_COMPRESS_BYTES || !isCompressible(response.headers["content-type"])) {
      return response
    }
    const varied = HttpServerResponse.setHeader(response, "vary", withVary(response.headers.vary))
    const encoding = negotiate(request.headers["accept-encoding"])
    if (encoding === undefined) return varied
    const body = yield* Effect.orDie(Effect.tryPromise(() => compressedFile(file, stat, encoding)))
    // The file's stream is not sent: close it.
    if (response.body._tag === "Raw") (response.body.body as NodeStream.Readable).destroy?.()
    const { "content-length": _length, etag, ...headers } = varied.headers
    return HttpServerResponse.uint8Array(body, {
      status: response.status,
      headers: {
        ...headers,
        ...(etag === undefined ? {} : { etag: etagFor(etag, encoding) }),
        "content-encoding": encoding
      },
      contentType: response.headers["content-type"]
    })
  })

/**
 * The Lit web app from its build folder, looked up per request so a build made while the server runs is
 * served: `/` redirects to /dashboard (to /docs while there is no build), the SPA routes answer with
 * index.html, other GETs with the file of that name, else 404 (with the app's not-found page for a page
 * navigation, see {@link isPageNavigation}).
 */
export const StaticRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const dir = NodePath.resolve(yield* WebDist)
    const index = NodePath.join(dir, "index.html")
    const serveIndex = Effect.suspend(
      (): Effect.Effect<
        HttpServerResponse.HttpServerResponse,
        HttpServerError.RouteNotFound,
        HttpPlatform | HttpServerRequest.HttpServerRequest
      > => (isFile(index) ? serveFile(index, "no-cache") : notFound)
    )
    yield* router.get(
      "/",
      Effect.sync(() => HttpServerResponse.redirect(isFile(index) ? "/dashboard" : "/docs", { status: 302 }))
    )
    for (const route of SPA_ROUTES) {
      yield* router.get(route, serveIndex)
      yield* router.get(`${route}/*`, serveIndex)
    }
    yield* router.get(
      "/*",
      Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const file = resolveFile(dir, request.url)
        if (file === undefined && isFile(index) && isPageNavigation(request.url, request.headers.accept))
          return yield* Effect.orDie(
            HttpServerResponse.file(index, { status: 404, headers: { "cache-control": "no-cache" } })
          )
        if (file === undefined) return yield* notFound
        const immutable = file.startsWith(NodePath.join(dir, "assets") + NodePath.sep)
        const cacheControl = immutable ? "public, max-age=31536000, immutable" : "no-cache"
        return yield* serveFile(file, cacheControl)
      })
    )
  })
)
