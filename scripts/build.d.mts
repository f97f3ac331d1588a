/** Types of scripts/build.mjs for the tests that use it. */
export declare const ROOT: string
export declare const BUNDLES: Record<
  "server" | "demo" | "cli",
  { entry: string; output: string; sources: Array<string> }
>
export declare const EXTERNAL: Array<string>
export declare const ensureBundle: (name: "server" | "demo" | "cli") => Promise<string>
export declare const ensureWeb: () => void
