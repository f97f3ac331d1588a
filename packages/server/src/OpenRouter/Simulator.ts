import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer } from "effect"
import type * as Scope from "effect/Scope"
import type { AnalyticsOptions } from "./Simulator/Analytics.js"
import type { Endpoint } from "./Simulator/Faults.js"
import { Fault, FaultQueue, renderBody } from "./Simulator/Faults.js"
import type { Reply } from "./Simulator/Routes.js"
import { errorReply, route } from "./Simulator/Routes.js"
import type { KeyInit, Scenario, SimActivityRow, SimKey } from "./Simulator/Scenario.js"
import * as S from "./Simulator/Scenario.js"
import type { UsageInit } from "./Simulator/Usage.js"
import { addUsage } from "./Simulator/Usage.js"

export { type Charge, charge, headroom } from "./Simulator/Completions.js"
export { makeRng, realisticScenario, trafficTick } from "./Simulator/Realistic.js"
export { generateKey, hashKey, labelOf } from "./Simulator/Scenario.js"
export type { Endpoint, KeyInit, Scenario, SimActivityRow, SimKey, UsageInit }
export { Fault }

/** One request the simulator received; tests count calls with it. */
export interface RequestLogEntry {
  readonly method: string
  /** Relative to the base path, e.g. `/key`. */
  readonly endpoint: string
  readonly query: Readonly<Record<string, string>>
  /** SHA-256 of the bearer token, `null` without one. */
  readonly keyHash: string | null
  readonly at: Date
  readonly fault: Fault["_tag"] | null
}

/** Options of a {@link Simulator}. */
export interface SimulatorOptions {
  /** The simulator's clock; defaults to the wall clock. */
  readonly now?: () => Date
  readonly scenario?: Scenario
  /** Defaults to `/api/v1`. */
  readonly basePath?: string
  /** `POST /analytics/query` answers at most this many rows (then `truncated`); default 10,000. */
  readonly analyticsMaxRows?: number
  /** `POST /analytics/query` calls allowed per minute (then 429 with Retry-After); default 64. */
  readonly analyticsPerMinute?: number
}

/** Where to listen; defaults to a free port on 127.0.0.1. */
export interface StartOptions {
  readonly port?: number
  readonly host?: string
}

/** A listening simulator. */
export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:PORT/api/v1`. */
  readonly url: string
  readonly port: number
  readonly close: () => Promise<void>
}

/** A real HTTP server simulating OpenRouter's API from a mutable scenario, with injectable faults. */
export class Simulator {
  readonly scenario: Scenario
  readonly faults = new FaultQueue()
  readonly requests: Array<RequestLogEntry> = []
  readonly now: () => Date
  private readonly basePath: string
  private readonly analytics: AnalyticsOptions
  private readonly waiters: Array<{ readonly endpoint: string; readonly resolve: () => void }> = []

  constructor(options: SimulatorOptions = {}) {
    this.scenario = options.scenario ?? S.emptyScenario()
    this.now = options.now ?? (() => new Date())
    this.basePath = options.basePath ?? "/api/v1"
    this.analytics = {
      maxRows: options.analyticsMaxRows ?? 10_000,
      perMinute: options.analyticsPerMinute ?? 64,
      calls: []
    }
  }

  /** Adds a key and returns its key string (`sk-or-v1-` + 64 hex). */
  addKey(init: KeyInit = {}): string {
    return S.addKey(this.scenario, init, this.now()).key
  }

  /** The mutable record of a key; throws for an unknown key. */
  key(key: string): SimKey {
    const found = this.scenario.keys.find((k) => k.key === key)
    if (found === undefined) throw new Error("Simulator: unknown key")
    return found
  }

  /** Adds `usd` of usage to a key (all windows and one activity row, today unless `date` is given). */
  addUsage(key: string, usd: number, init: UsageInit = {}): void {
    addUsage(this.scenario, this.key(key), usd, init, this.now())
  }

  /** The next `times` calls to `endpoint` (or `"*"`) get `fault`. */
  fail(endpoint: Endpoint | "*", fault: Fault, times = 1): this {
    this.faults.add(endpoint, fault, times)
    return this
  }

  /** How many requests reached `endpoint` (all endpoints without it). */
  count(endpoint?: string): number {
    return this.requests.filter((r) => endpoint === undefined || r.endpoint === endpoint).length
  }

  /** Resolves once a request has reached `endpoint` (at once if one already has): a signal, not a poll. */
  reached(endpoint: string): Promise<void> {
    if (this.count(endpoint) > 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ endpoint, resolve }))
  }

  /** Listens on `host:port` (default `127.0.0.1:0`, a free port). */
  start(options: StartOptions = {}): Promise<RunningSimulator> {
    const timers = new Set<NodeJS.Timeout>()
    const server = Http.createServer((req, res) => this.handle(req, res, timers))
    const host = options.host ?? "127.0.0.1"
    return new Promise((resolve, reject) => {
      server.once("error", reject)
      server.listen(options.port ?? 0, host, () => {
        const { port } = server.address() as AddressInfo
        const close = () =>
          new Promise<void>((done) => {
            for (const t of timers) clearTimeout(t)
            server.close(() => done())
            server.closeAllConnections()
          })
        resolve({ url: `http://${host.includes(":") ? `[${host}]` : host}:${port}${this.basePath}`, port, close })
      })
    })
  }

  /** Starts the simulator for the lifetime of the scope. */
  serve(options: StartOptions = {}): Effect.Effect<RunningSimulator, never, Scope.Scope> {
    return Effect.acquireRelease(
      Effect.promise(() => this.start(options)),
      (running) => Effect.promise(() => running.close())
    )
  }

  private handle(req: Http.IncomingMessage, res: Http.ServerResponse, timers: Set<NodeJS.Timeout>): void {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => this.handleRequest(req, Buffer.concat(chunks).toString("utf8"), res, timers))
  }

  private handleRequest(
    req: Http.IncomingMessage,
    rawBody: string,
    res: Http.ServerResponse,
    timers: Set<NodeJS.Timeout>
  ): void {
    const url = new URL(req.url ?? "/", "http://simulator")
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim()
    if (!url.pathname.startsWith(`${this.basePath}/`)) {
      send(res, errorReply(404, "Not Found"))
      return
    }
    const endpoint = url.pathname.slice(this.basePath.length)
    const fault = this.faults.take(/^\/keys\/[^/]+$/.test(endpoint) ? "/keys/{hash}" : endpoint)
    this.requests.push({
      method: req.method ?? "GET",
      endpoint,
      query: Object.fromEntries(url.searchParams),
      keyHash: bearer === undefined ? null : S.hashKey(bearer),
      at: this.now(),
      fault: fault?._tag ?? null
    })
    for (const waiter of this.waiters.filter((w) => w.endpoint === endpoint)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
    const respond = (): void => {
      const request = { endpoint, query: url.searchParams, bearer, method: req.method ?? "GET", body: rawBody }
      send(res, route(this.scenario, this.now(), request, this.analytics), fault)
    }
    switch (fault?._tag) {
      case "Latency": {
        const timer = setTimeout(() => {
          timers.delete(timer)
          respond()
        }, fault.ms)
        timers.add(timer)
        break
      }
      case "Reset":
        req.socket.destroy()
        break
      case "Status":
        send(
          res,
          errorReply(
            fault.status,
            fault.message,
            fault.retryAfter === undefined ? undefined : { "retry-after": fault.retryAfter }
          )
        )
        break
      default:
        respond()
    }
  }

  /** A simulator listening for the scope's lifetime: `Effect.acquireRelease` over {@link Simulator.start}. */
  static scoped(
    options: SimulatorOptions & StartOptions = {}
  ): Effect.Effect<SimulatorServer["Type"], never, Scope.Scope> {
    const simulator = new Simulator(options)
    return Effect.map(simulator.serve(options), (running) => ({ simulator, url: running.url, port: running.port }))
  }

  /** A layer of {@link SimulatorServer}: a simulator listening while the layer lives. */
  static layer(options: SimulatorOptions & StartOptions = {}): Layer.Layer<SimulatorServer> {
    return Layer.scoped(SimulatorServer, Simulator.scoped(options))
  }
}

/** A started simulator, as a service: tests read `url` and drive `simulator`. */
export class SimulatorServer extends Context.Tag("orw/SimulatorServer")<
  SimulatorServer,
  { readonly simulator: Simulator; readonly url: string; readonly port: number }
>() {}

const send = (res: Http.ServerResponse, reply: Reply, fault?: Fault): void => {
  if (res.destroyed || res.writableEnded) return
  const body = renderBody(reply, fault)
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...reply.headers
  })
  res.end(body)
}
