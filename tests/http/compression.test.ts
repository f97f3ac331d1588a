import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeZlib from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
const web = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-web-"))
const script = `export const rows = ${JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ i, name: `row ${i}` })))}\n`

beforeAll(async () => {
  NodeFs.mkdirSync(NodePath.join(web, "assets"))
  NodeFs.writeFileSync(
    NodePath.join(web, "index.html"),
    `<!doctype html><title>orw</title>${"<!-- pad -->".repeat(200)}`
  )
  NodeFs.writeFileSync(NodePath.join(web, "assets", "app-1234.js"), script)
  NodeFs.writeFileSync(NodePath.join(web, "assets", "tiny.js"), "export {}\n")
  process.env.WEB_DIST_DIR = web
  server = await startServer()
})

afterAll(async () => {
  await server.close()
  NodeFs.rmSync(web, { recursive: true, force: true })
})

/** A GET with the raw bytes of the answer (fetch would decode them). */
const get = (path: string, acceptEncoding?: string) =>
  new Promise<{ status: number; headers: NodeHttp.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const request = NodeHttp.get(
      `${server.url}${path}`,
      { headers: acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding } },
      (response) => {
        const chunks: Array<Buffer> = []
        response.on("data", (c: Buffer) => chunks.push(c))
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) })
        )
      }
    )
    request.on("error", reject)
  })

const decode = (body: Buffer, encoding: string | undefined) =>
  encoding === "br" ? NodeZlib.brotliDecompressSync(body) : encoding === "gzip" ? NodeZlib.gunzipSync(body) : body

describe("compression", () => {
  it("JSON answers are br or gzip as Accept-Encoding asks, the same bytes once decoded, with Vary", async () => {
    const plain = await get("/openapi.json")
    expect(plain.status).toBe(200)
    expect(plain.headers["content-encoding"]).toBeUndefined()
    expect(plain.headers.vary).toMatch(/accept-encoding/i)
    expect(plain.body.length).toBeGreaterThan(1024)
    for (const [accept, expected] of [
      ["gzip, deflate, br", "br"],
      ["br;q=0.5, gzip", "gzip"],
      ["gzip", "gzip"],
      ["br", "br"],
      ["*", "br"],
      ["deflate", undefined],
      ["br;q=0, gzip;q=0", undefined],
      ["identity", undefined]
    ] as const) {
      const r = await get("/openapi.json", accept)
      expect(r.headers["content-encoding"], accept).toBe(expected)
      expect(r.headers.vary).toMatch(/accept-encoding/i)
      expect(r.headers["x-content-type-options"]).toBe("nosniff")
      expect(decode(r.body, r.headers["content-encoding"]).equals(plain.body), accept).toBe(true)
      if (expected !== undefined) expect(r.body.length).toBeLessThan(plain.body.length / 2)
    }
  })

  it("tiny bodies go as they are", async () => {
    for (const path of ["/healthz", "/api/nothing-here", "/assets/tiny.js"]) {
      const r = await get(path, "gzip, br")
      expect(r.headers["content-encoding"], path).toBeUndefined()
      expect(r.body.length).toBeLessThan(1024)
    }
  })

  it("static files are compressed (cached in memory), keep their caching headers and get their own ETag", async () => {
    const plain = await get("/assets/app-1234.js")
    expect(plain.status).toBe(200)
    expect(plain.body.toString()).toBe(script)
    expect(plain.headers.vary).toMatch(/accept-encoding/i)
    for (const encoding of ["br", "gzip"]) {
      for (let round = 0; round < 2; round++) {
        const r = await get("/assets/app-1234.js", encoding)
        expect(r.status).toBe(200)
        expect(r.headers["content-encoding"]).toBe(encoding)
        expect(r.headers["content-type"]).toBe(plain.headers["content-type"])
        expect(r.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
        expect(r.headers.etag).toBeDefined()
        expect(r.headers.etag).not.toBe(plain.headers.etag)
        expect(r.headers.vary).toMatch(/accept-encoding/i)
        expect(decode(r.body, encoding).toString()).toBe(script)
      }
    }
    const page = await get("/dashboard", "br")
    expect(page.headers["content-encoding"]).toBe("br")
    expect(page.headers["cache-control"]).toBe("no-cache")
    expect(decode(page.body, "br").toString()).toContain("<title>orw</title>")
  })
})
