/**
 * The product's version, the one source of what `/docs` (OpenAPI `info.version`), `orw --version` and the
 * web app's footer show. It equals the `version` of the root package.json and of every workspace package
 * (packages/web/test/version.test.ts holds them together), so a release bumps it here and there at once.
 */
export const VERSION = "0.1.0"
