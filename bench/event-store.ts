/**
 * Event store and projection figures on a real SQLite file (WAL, synchronous = FULL).
 * Run: pnpm bench   (or: node --import tsx bench/event-store.ts [commands])
 * Prints appends per second through the whole command path (load, decide, append, inline
 * projections, fsync) and the time to rebuild every projection from the log.
 */

import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { ApiKeyId, type Micros, UsageCommands, UtcDate } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { Dispatcher } from "@orw/server/Dispatcher"
import { EventStore } from "@orw/server/EventStore"
import { Projector } from "@orw/server/Projector"
import { DateTime, Effect, Logger, LogLevel } from "effect"
import { allProjections } from "../packages/server/src/Projections/index.js"
import { addKey, register, testMetadata } from "../packages/server/test/support/Fixtures.js"

const commands = Number(process.argv[2] ?? 2000)
const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-bench-")), "app.db")

const program = Effect.gen(function* () {
  const dispatcher = yield* Dispatcher
  yield* dispatcher.dispatch(register("u1", "bench@example.com"), { metadata: testMetadata() })
  for (let k = 0; k < 5; k++) yield* dispatcher.dispatch(addKey(`k${k}`, "u1"), { metadata: testMetadata() })
  const at = yield* DateTime.now
  const started = performance.now()
  for (let i = 0; i < commands; i++) {
    const day = new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86_400_000).toISOString().slice(0, 10)
    yield* dispatcher.dispatch(
      new UsageCommands.RecordUsage({
        keyId: ApiKeyId.make(`k${i % 5}`),
        date: UtcDate.make(day),
        model: `model-${i % 7}`,
        mode: "increment",
        figures: { requests: 1, tokensInput: 100, tokensOutput: 50, cost: 1234 as Micros, byokCost: 0 },
        at
      }),
      { metadata: testMetadata() }
    )
  }
  const appendMs = performance.now() - started
  const head = yield* Effect.flatMap(EventStore, (s) => s.head)
  const rebuildStarted = performance.now()
  yield* Effect.flatMap(Projector, (p) => p.rebuild())
  const rebuildMs = performance.now() - rebuildStarted
  console.log(`commands appended:     ${commands} (log head ${head})`)
  console.log(
    `append throughput:     ${((commands / appendMs) * 1000).toFixed(0)} commands/s (${(appendMs / commands).toFixed(2)} ms each, fsync included)`
  )
  console.log(
    `rebuild all ${allProjections.length} tables:  ${rebuildMs.toFixed(0)} ms for ${head} events (${((head / rebuildMs) * 1000).toFixed(0)} events/s)`
  )
})

Effect.runPromise(
  program.pipe(Effect.provide(Core.layerFile(file)), Logger.withMinimumLogLevel(LogLevel.Warning))
).then(() => NodeFs.rmSync(NodePath.dirname(file), { recursive: true, force: true }))
