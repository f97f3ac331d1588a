import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { ApiKeyCommands, ApiKeyId, UserCommands, UserId } from "@orw/domain"
import { DateTime, Effect, Redacted } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"

const meta = { actor: null, source: "cli" as const, correlationId: "c", causationId: null, requestId: null }

it.effect("smoke", () =>
  Effect.gen(function* () {
    const d = yield* Dispatcher
    const at = DateTime.unsafeMake("2026-11-29T10:00:00Z")
    const userId = UserId.make("u1")
    const r = yield* d.dispatch(new UserCommands.RegisterUser({ userId, email: "A@b.com", passwordHash: "h", at }), {
      metadata: meta
    })
    expect(r.map((e) => e.type)).toEqual(["EmailClaimed", "UserRegistered"])
    const e2 = yield* Effect.flip(
      d.dispatch(
        new UserCommands.RegisterUser({ userId: UserId.make("u2"), email: "a@B.com ", passwordHash: "h", at }),
        { metadata: meta }
      )
    )
    expect(e2.message).toBe("Email already registered")
    const key = "sk-or-v1-" + "a".repeat(64)
    yield* d.dispatch(
      new ApiKeyCommands.AddKey({
        keyId: ApiKeyId.make("k1"),
        userId,
        name: "n",
        key: Redacted.make(key),
        label: "l",
        keyHash: "h",
        ciphertext: "c",
        maxKeysPerUser: 1,
        at
      }),
      { metadata: meta }
    )
    const e3 = yield* Effect.flip(
      d.dispatch(
        new ApiKeyCommands.AddKey({
          keyId: ApiKeyId.make("k2"),
          userId,
          name: "n",
          key: Redacted.make(key),
          label: "l",
          keyHash: "h",
          ciphertext: "c",
          maxKeysPerUser: 1,
          at
        }),
        { metadata: meta }
      )
    )
    expect(e3.message).toContain("Maximum")
    const sql = yield* SqlClient.SqlClient
    expect(yield* sql`SELECT id, email, key_count FROM users`).toEqual([{ id: "u1", email: "a@b.com", key_count: 1 }])
  }).pipe(Effect.provide(Core.layerFile(":memory:")))
)
