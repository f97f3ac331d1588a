import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { HttpApiBuilder, HttpServerResponse, OpenApi } from "@effect/platform"
import { OrwApi } from "@orw/domain/Api"
import { Effect } from "effect"

type Json = Record<string, unknown>
const isJson = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const DECODE_ERROR = "#/components/schemas/HttpApiDecodeError"

/** Drops the `HttpApiDecodeError` alternative of one response schema; undefined when nothing is left. */
const withoutDecodeError = (schema: Json): Json | undefined => {
  const alternatives = Array.isArray(schema.anyOf) ? schema.anyOf.filter(isJson) : [schema]
  const kept = alternatives.filter((s) => s.$ref !== DECODE_ERROR)
  return kept.length === 0 ? undefined : kept.length === 1 ? kept[0] : { ...schema, anyOf: kept }
}

/**
 * The OpenAPI document of the contract. HttpApi declares its own decode error (400) on every endpoint;
 * this server answers schema failures with the contract's 422 instead, so that entry is dropped.
 */
export const openApiSpec = (): Json => {
  const spec: unknown = JSON.parse(JSON.stringify(OpenApi.fromApi(OrwApi)))
  if (!isJson(spec) || !isJson(spec.paths)) return {}
  for (const item of Object.values(spec.paths).filter(isJson)) {
    for (const operation of Object.values(item).filter(isJson)) {
      const responses = isJson(operation.responses) ? operation.responses : {}
      const badRequest = responses["400"]
      const json = isJson(badRequest) && isJson(badRequest.content) ? badRequest.content["application/json"] : undefined
      if (!isJson(badRequest) || !isJson(json) || !isJson(json.schema)) continue
      const schema = withoutDecodeError(json.schema)
      if (schema === undefined) delete responses["400"]
      else {
        json.schema = schema
        badRequest.description = "Bad input or a business rule"
      }
    }
  }
  const schemas = isJson(spec.components) && isJson(spec.components.schemas) ? spec.components.schemas : {}
  for (const name of ["HttpApiDecodeError", "Issue", "PropertyKey"]) delete schemas[name]
  return spec
}

const swaggerDir = NodePath.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"))

/** Our own page: no inline script or style, so the strict CSP holds (only styles are relaxed under /docs). */
const page = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>openrouter-watcher API</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`

const init = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null })
})
`

/** GET /openapi.json, and Swagger UI at /docs served from our own origin (no CDN). */
export const DocsRoutes = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const spec = HttpServerResponse.unsafeJson(openApiSpec())
    const file = (name: string) =>
      Effect.orDie(
        HttpServerResponse.file(NodePath.join(swaggerDir, name), {
          headers: { "cache-control": "public, max-age=86400" }
        })
      )
    yield* router.get("/openapi.json", Effect.succeed(spec))
    yield* router.get("/docs", Effect.succeed(HttpServerResponse.html(page)))
    yield* router.get(
      "/docs/init.js",
      Effect.succeed(HttpServerResponse.text(init, { contentType: "text/javascript" }))
    )
    yield* router.get("/docs/swagger-ui.css", file("swagger-ui.css"))
    yield* router.get("/docs/swagger-ui-bundle.js", file("swagger-ui-bundle.js"))
    yield* router.get("/docs/favicon-32x32.png", file("favicon-32x32.png"))
  })
)
