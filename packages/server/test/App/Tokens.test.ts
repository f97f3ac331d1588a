import { describe, expect, it } from "@effect/vitest"
import { UserId } from "@orw/domain"
import { Effect, Layer, Option, Redacted, TestClock } from "effect"
import { Tokens } from "../../src/App/Tokens.js"
import * as Core from "../../src/Core.js"
import { Dispatcher } from "../../src/Dispatcher.js"
import { register, testMetadata } from "../support/Fixtures.js"

/** The token service over a real in-memory core: no HTTP server, time under TestClock. */
const TokensLive = Tokens.Default.pipe(Layer.provideMerge(Core.layerFile(":memory:")))

const origin = { source: "api", correlationId: "test", requestId: null } as const
const u2 = UserId.make("u2")

const lastUsed = (userId: UserId, tokenId: string) =>
  Effect.flatMap(Tokens, (tokens) => tokens.list(userId)).pipe(
    Effect.map((list) => list.items.find((t) => t.id === tokenId)?.last_used_at ?? null)
  )

describe("Tokens", () => {
  it.layer(TokensLive)((it) => {
    it.effect("authenticates a token by its hash; its last use moves at most once a minute", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.parse("2026-11-29T10:00:00Z"))
        yield* Effect.flatMap(Dispatcher, (d) =>
          d.dispatch(register("u1", "u1@example.com"), { metadata: testMetadata() })
        )
        const tokens = yield* Tokens
        const created = yield* tokens.create(UserId.make("u1"), { name: "grafana" }, origin)
        expect(yield* lastUsed(UserId.make("u1"), created.id)).toBeNull()

        const owner = yield* tokens.authenticate(Redacted.make(created.token))
        expect(owner).toEqual(Option.some({ tokenId: created.id, userId: "u1" }))
        expect(yield* lastUsed(UserId.make("u1"), created.id)).toBe("2026-11-29T10:00:00.000Z")

        yield* TestClock.adjust("59 seconds")
        yield* tokens.authenticate(Redacted.make(created.token))
        expect(yield* lastUsed(UserId.make("u1"), created.id)).toBe("2026-11-29T10:00:00.000Z")

        yield* TestClock.adjust("2 seconds")
        yield* tokens.authenticate(Redacted.make(created.token))
        expect(yield* lastUsed(UserId.make("u1"), created.id)).toBe("2026-11-29T10:01:01.000Z")
      })
    )

    it.effect("a revoked, unknown or malformed token authenticates no one", () =>
      Effect.gen(function* () {
        yield* Effect.flatMap(Dispatcher, (d) =>
          d.dispatch(register("u2", "u2@example.com"), { metadata: testMetadata() })
        )
        const tokens = yield* Tokens
        const created = yield* tokens.create(u2, { name: "ci" }, origin)
        yield* tokens.revoke(u2, created.id, origin)
        expect(yield* tokens.authenticate(Redacted.make(created.token))).toEqual(Option.none())
        expect(yield* tokens.authenticate(Redacted.make(`or_api_${"A".repeat(64)}`))).toEqual(Option.none())
        expect(yield* tokens.authenticate(Redacted.make("not-a-token"))).toEqual(Option.none())
        const listed = yield* tokens.list(u2)
        expect(listed.items.map((t) => [t.name, t.is_active])).toEqual([["ci", false]])
      })
    )
  })
})
