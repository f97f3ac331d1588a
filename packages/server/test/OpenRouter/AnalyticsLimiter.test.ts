import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Ref, TestClock } from "effect"
import { AnalyticsLimiter } from "../../src/OpenRouter/Analytics/History.js"
import { SyncSettings } from "../../src/OpenRouter/SyncSettings.js"

describe("AnalyticsLimiter", () => {
  it.scoped("lets 64 analytics queries start in a minute, the 65th only once the minute has passed", () =>
    Effect.gen(function* () {
      const limiter = yield* AnalyticsLimiter
      const started = yield* Ref.make(0)
      const fiber = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 65 }), () => limiter.take(Ref.update(started, (n) => n + 1)), {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust("59 seconds")
      expect(yield* Ref.get(started)).toBe(64)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(started)).toBe(65)
    }).pipe(Effect.provide(AnalyticsLimiter.Default), Effect.provide(SyncSettings.Test()))
  )
})
