import { defineConfig } from "vitest/config"

export default defineConfig({
  esbuild: { target: "es2022" },
  test: {
    include: ["packages/*/test/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A real PostgreSQL for the suites that run on both engines (see scripts/pg-cluster.mjs).
    globalSetup: ["scripts/vitest-pg-setup.mjs"]
  }
})
