// One autocannon run in its own process (so the load generator does not share an event loop with the
// bench or the servers): `node bench/lib/load.mjs '<json options>'` (or `@options.json`) prints one JSON
// line of results.
// Options: url, paths (cycled), headers, connections, durationSeconds, maxRequests (a hard cap: the run
// stops at whichever comes first), overallRate.
import * as NodeFs from "node:fs"
import autocannon from "autocannon"

// The options as JSON, or `@file` holding them (thousands of paths do not fit in one argument).
const arg = process.argv[2] ?? "{}"
const options = JSON.parse(arg.startsWith("@") ? NodeFs.readFileSync(arg.slice(1), "utf8") : arg)
const paths = options.paths ?? ["/"]
let next = 0

let answered = 0
const instance = autocannon({
  url: options.url,
  connections: options.connections ?? 10,
  duration: options.durationSeconds ?? 5,
  overallRate: options.overallRate,
  headers: options.headers ?? {},
  timeout: 10,
  requests: [
    {
      setupRequest: (request) => {
        const path = paths[next % paths.length]
        next++
        return { ...request, path }
      }
    }
  ]
})
instance.on("response", () => {
  answered++
  if (answered === (options.maxRequests ?? 1_000_000)) instance.stop()
})
const result = await instance

console.log(
  JSON.stringify({
    rps: result.requests.average,
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts
  })
)
