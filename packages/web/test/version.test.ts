import * as NodeFs from "node:fs"
import { VERSION } from "@orw/domain/Version"
import { describe, expect, it } from "vitest"

const versionOf = (path: string): unknown =>
  (JSON.parse(NodeFs.readFileSync(new URL(path, import.meta.url), "utf8")) as { version?: unknown }).version

describe("one product version", () => {
  it("the footer's, /docs' and orw's VERSION is the root package.json's and every package's", () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/)
    for (const path of [
      "../../../package.json",
      "../package.json",
      "../../server/package.json",
      "../../cli/package.json",
      "../../domain/package.json"
    ]) {
      expect([path, versionOf(path)]).toEqual([path, VERSION])
    }
  })
})
