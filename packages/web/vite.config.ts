import { defineConfig } from "vite"
import { bundleSize } from "./bundle-size.js"

const backend = "http://127.0.0.1:8000"

/**
 * The web UI bundle: everything is emitted as files under dist/ (no inline script, no eval),
 * so the server's strict CSP (`script-src 'self'`) holds. `vite dev` forwards the API and RPC
 * to a server on :8000, keeping the browser on one origin.
 */
export default defineConfig({
  plugins: [bundleSize()],
  // Lit's standard decorators need ES2022 class semantics.
  esbuild: { target: "es2022" },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // No source maps in the build the server serves: they would publish the whole source (issue 13).
    sourcemap: false,
    // Terser packs the bundle tighter than esbuild (gzipped), for some seconds more per build.
    minify: "terser",
    // Keep every asset a file: an inlined data: URL would need a CSP exception.
    assetsInlineLimit: 0
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/rpc": { target: backend, changeOrigin: false }
    }
  }
})
