import type { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ApiKeyId, UserId } from "@orw/domain"
import { Effect, Layer } from "effect"
import { Keys } from "../../src/App/Keys.js"
import type { Origin } from "../../src/App/Origin.js"
import { AppConfig } from "../../src/Config.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { Simulator } from "../../src/OpenRouter/Simulator.js"
import { registerUser, storeKey, syncLayer } from "../support/SyncHarness.js"

const u1 = UserId.make("u1")
const k1 = ApiKeyId.make("k1")

const origin: Origin = { source: "web", correlationId: "c-1", requestId: null }

/**
 * Keys over the real core, with a Dispatcher that remembers the event types of each dispatch: one
 * dispatch is one decision appended in one transaction.
 */
const withKeys = <A, E>(
  body: (appends: Array<ReadonlyArray<string>>, sim: Simulator) => Effect.Effect<A, E, Keys | SqlClient.SqlClient>
) =>
  Effect.gen(function* () {
    const sim = new Simulator()
    const running = yield* sim.serve()
    const appends: Array<ReadonlyArray<string>> = []
    const recording = Layer.effect(
      Dispatcher,
      Effect.map(Dispatcher, (real) =>
        Dispatcher.make({
          dispatch: (command, options) =>
            Effect.tap(real.dispatch(command, options), (events) =>
              Effect.sync(() => appends.push(events.map((e) => e.type)))
            )
        })
      )
    )
    const layer = Keys.Default.pipe(
      Layer.provide(recording),
      Layer.provideMerge(syncLayer(running.url)),
      Layer.provide(AppConfig.layerTest())
    )
    return yield* Effect.gen(function* () {
      yield* registerUser("u1")
      yield* storeKey("u1", "k1", sim.addKey(), "Main")
      appends.length = 0
      return yield* body(appends, sim)
    }).pipe(Effect.provide(layer))
  })

describe("Keys.update (PUT /api/keys/{id})", () => {
  it.scopedLive("a new name and is_active are one command: both events in one append, never half a change", () =>
    withKeys((appends) =>
      Effect.gen(function* () {
        const keys = yield* Keys
        const row = yield* keys.update(u1, k1, { name: " Renamed ", isActive: false }, origin)
        expect(row).toMatchObject({ name: "Renamed", is_active: false, status: "inactive" })
        expect(appends).toEqual([["KeyRenamed", "KeyActiveSet"]])
      })
    )
  )

  it.scopedLive("one field edits that field only; an empty change appends nothing", () =>
    withKeys((appends) =>
      Effect.gen(function* () {
        const keys = yield* Keys
        yield* keys.update(u1, k1, { name: "Other" }, origin)
        yield* keys.update(u1, k1, { isActive: false }, origin)
        const row = yield* keys.update(u1, k1, {}, origin)
        expect(row).toMatchObject({ name: "Other", is_active: false })
        expect(appends.filter((types) => types.length > 0)).toEqual([["KeyRenamed"], ["KeyActiveSet"]])
      })
    )
  )

  it.scopedLive("an invalid name refuses the whole change: the key stays active", () =>
    withKeys((appends) =>
      Effect.gen(function* () {
        const keys = yield* Keys
        const refused = yield* Effect.flip(keys.update(u1, k1, { name: " ", isActive: false }, origin))
        expect(refused).toMatchObject({ detail: "Name must be 1 to 100 characters" })
        expect((yield* keys.list(u1)).items[0]).toMatchObject({ name: "Main", is_active: true })
        expect(appends.flat()).toEqual([])
      })
    )
  )
})
