import "./global.css"

// @lit-labs/router matches paths with URLPattern; older Firefox and Safari lack it.
if (!("URLPattern" in globalThis)) await import("urlpattern-polyfill")
await import("./elements/orw-app.js")
