import * as NodeHttp from "node:http"

/** One request a receiver got. */
export interface Received {
  readonly at: number
  readonly headers: NodeHttp.IncomingHttpHeaders
  readonly body: string
}

/**
 * A real webhook receiver on loopback (node:http). It answers each request with the next status of
 * `statuses` (the last one repeats), records what it got, and lets a test wait for the n-th request.
 */
export const startReceiver = async (statuses: Array<number> = [200]) => {
  const received: Array<Received> = []
  const waiters: Array<{ n: number; resolve: () => void }> = []
  const server = NodeHttp.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      received.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") })
      const status = statuses.length > 1 ? (statuses.shift() ?? 200) : (statuses[0] ?? 200)
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "nope")
      for (const w of waiters.filter((w) => received.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Replaces the statuses still to answer. */
    answer: (next: Array<number>) => statuses.splice(0, statuses.length, ...next),
    /** Resolves once `n` requests have arrived in all. */
    waitFor: (n: number) =>
      new Promise<void>((resolve) => (received.length >= n ? resolve() : waiters.push({ n, resolve }))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
