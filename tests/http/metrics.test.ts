import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { client } from "./support/client.js"
import { startServer, type TestServer } from "./support/server.js"

let server: TestServer
let api: ReturnType<typeof client>

beforeAll(async () => {
  server = await startServer()
  api = client(server.url)
})
afterAll(() => server.close())

const SAMPLE = /^([a-z_:][a-z0-9_:]*)(\{([a-z_][a-z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/

/** The exposition's samples, checked line by line against the text format; HELP and TYPE before each family. */
const parse = (text: string) => {
  const types = new Map<string, string>()
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  for (const line of text.split("\n").filter((l) => l !== "")) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line)
    if (type) {
      expect(types.has(type[1]!)).toBe(false)
      types.set(type[1]!, type[2]!)
      continue
    }
    if (line.startsWith("# HELP ")) continue
    expect(line).toMatch(SAMPLE)
    const name = SAMPLE.exec(line)![1]!
    const family = name.replace(/_(bucket|sum|count)$/, "")
    expect(types.has(name) || types.get(family) === "histogram").toBe(true)
    const labels = Object.fromEntries(
      [...(line.match(/\{(.*)\}/)?.[1] ?? "").matchAll(/([a-z_]+)="((?:\\.|[^"\\])*)"/g)].map((m) => [m[1]!, m[2]!])
    )
    samples.push({ name, labels, value: Number(line.split(" ").at(-1)?.replace("+Inf", "Infinity")) })
  }
  return { types, samples }
}

describe("/metrics", () => {
  it("exposes request latency histograms by route and status, events by type, syncs, upstream latency and spend per key", async () => {
    const { jwt } = await api.user("metrics")
    const key = server.sim.addKey({ limit: 50, usage: { total: 12.5 } })
    const id = await api.addKey(jwt, key, "prod key")
    expect((await api.request("POST", `/api/keys/${id}/sync`, { bearer: jwt })).status).toBe(200)
    expect((await api.request("GET", `/api/keys/${id}`, { bearer: jwt })).status).toBeGreaterThan(0)
    const scraped = await api.request("GET", "/metrics")
    expect(scraped.status).toBe(200)
    expect(scraped.headers.get("content-type")).toContain("text/plain; version=0.0.4")
    expect(scraped.text).not.toContain(key)
    const { types, samples } = parse(scraped.text)
    const find = (name: string, labels: Record<string, string>) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

    expect(types.get("orw_http_request_duration_seconds")).toBe("histogram")
    const buckets = find("orw_http_request_duration_seconds_bucket", {
      route: "/api/keys",
      method: "POST",
      status: "201"
    })
    expect(buckets.map((b) => b.labels.le)).toContain("+Inf")
    const count = find("orw_http_request_duration_seconds_count", { route: "/api/keys", method: "POST", status: "201" })
    expect(count.map((c) => c.value)).toEqual([buckets.find((b) => b.labels.le === "+Inf")?.value])
    // Buckets are cumulative.
    const values = buckets.map((b) => b.value)
    expect(values).toEqual([...values].sort((a, b) => a - b))
    expect(find("orw_http_requests_total", { route: "/api/keys/:id/sync", status: "200" })[0]?.value).toBe(1)

    expect(find("orw_events_appended_total", { type: "UserRegistered" })[0]?.value).toBeGreaterThanOrEqual(1)
    expect(find("orw_events_appended_total", { type: "KeyAdded" })[0]?.value).toBeGreaterThanOrEqual(1)
    expect(find("orw_sync_runs_total", { source: "web", outcome: "ok" })[0]?.value).toBe(1)
    expect(types.get("orw_upstream_request_duration_seconds")).toBe("histogram")
    expect(find("orw_upstream_request_duration_seconds_count", { endpoint: "/key", outcome: "200" })[0]?.value).toBe(1)
    expect(find("orw_projection_lag", { projection: "api_keys" })[0]?.value).toBe(0)
    expect(find("orw_key_spend_usd", { key_id: id, key_name: "prod key" })[0]?.value).toBe(12.5)
    expect(types.get("orw_events_total")).toBe("counter")
    expect(find("orw_events_total", {})[0]?.value).toBeGreaterThan(0)
  })
})

describe("/metrics with the web RPC endpoint", () => {
  it("labels each /rpc call by its RPC method", async () => {
    const { startApp } = await import("../e2e/support/server.js")
    const app = await startApp()
    try {
      const call = (tag: string) =>
        fetch(`${app.origin}/rpc`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: app.origin },
          body: JSON.stringify({ _tag: "Request", id: "1", tag, payload: {}, headers: [] })
        })
      expect((await call("listKeys")).status).toBe(200)
      expect((await call("me")).status).toBe(200)
      const text = await (await fetch(`${app.origin}/metrics`)).text()
      expect(text).toMatch(/orw_http_requests_total\{method="POST",route="\/rpc\/listKeys",status="200"\} 1/)
      expect(text).toMatch(/orw_http_request_duration_seconds_count\{method="POST",route="\/rpc\/me",status="200"\} 1/)
      expect(text).not.toContain('route="static"')
    } finally {
      await app.close()
    }
  })
})
