/**
 * Runs INSIDE a checkout of c76269b (the first released schema), with that commit's own code:
 * its migrations 0001–0003, its Dispatcher and deciders, its KeyVault and its projections at v1.
 * Copied there and started by scripts/make-upgrade-fixture.mjs; not part of the current build.
 * Every secret is fake: a fixed test master key, a made-up OpenRouter key, a fixed API token.
 */

import {
  ApiKeyCommands,
  ApiKeyId,
  ApiTokenCommands,
  ApiTokenId,
  maskKey,
  UsageCommands,
  UserCommands,
  UserId
} from "@orw/domain"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { hashApiToken } from "./src/Auth/ApiTokens.js"
import { Passwords } from "./src/Auth/Passwords.js"
import * as Core from "./src/Core.js"
import { keyHash, makeKeyVault } from "./src/Crypto/KeyVault.js"
import { Dispatcher } from "./src/Dispatcher.js"

const [output, fixed] = process.argv.slice(2)
if (output === undefined || fixed === undefined) throw new Error("usage: generate-v1.ts <out.db> <fixed.json>")
const F = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(fixed, "utf8")))

const at = (iso: string) => DateTime.unsafeMake(iso)
const metadata = (actor: string | null, n: number) => ({
  actor,
  source: actor === null ? ("sync" as const) : ("api" as const),
  correlationId: `fixture-${n}`,
  causationId: null,
  requestId: null
})

const program = Effect.gen(function* () {
  const dispatcher = yield* Dispatcher
  const passwords = yield* Passwords
  const vault = yield* makeKeyVault(Redacted.make(F.encryptionKey))
  const userId = UserId.make(F.userId)
  const otherUser = UserId.make(F.otherUserId)
  let n = 0
  const send = (command: Parameters<typeof dispatcher.dispatch>[0], actor: string | null, extra = {}) =>
    dispatcher.dispatch(command, { metadata: metadata(actor, ++n), ...extra })

  const passwordHash = yield* passwords.hash(Redacted.make(F.password))
  yield* send(
    new UserCommands.RegisterUser({ userId, email: F.email, passwordHash, at: at("2026-11-01T09:00:00Z") }),
    F.userId
  )
  yield* send(
    new UserCommands.RegisterUser({
      userId: otherUser,
      email: F.otherEmail,
      passwordHash: yield* passwords.hash(Redacted.make(F.password)),
      at: at("2026-11-01T09:05:00Z")
    }),
    F.otherUserId
  )

  const addKey = (keyId: string, owner: UserId, name: string, plaintext: string, when: string) =>
    Effect.gen(function* () {
      const secret = Redacted.make(plaintext)
      const { ciphertext, vaultRow } = yield* vault.seal(keyId, owner, secret)
      yield* send(
        new ApiKeyCommands.AddKey({
          keyId: ApiKeyId.make(keyId),
          userId: owner,
          name,
          key: secret,
          label: maskKey(plaintext),
          keyHash: keyHash(secret),
          ciphertext,
          maxKeysPerUser: 20,
          at: at(when)
        }),
        owner,
        { inTransaction: vault.storeInTransaction(vaultRow) }
      )
    })
  yield* addKey(F.keyA, userId, "Production", F.keyAPlaintext, "2026-11-01T10:00:00Z")
  yield* addKey(F.keyB, userId, "Staging", F.keyBPlaintext, "2026-11-01T10:10:00Z")
  yield* addKey(F.keyC, otherUser, "Other's", F.keyCPlaintext, "2026-11-01T10:20:00Z")

  const status = (label: string, usage: number, limit: number | null) => ({
    label,
    limit,
    limitRemaining: limit === null ? null : limit - usage,
    limitReset: null,
    usage,
    usageDaily: 250_000,
    usageWeekly: 1_250_000,
    usageMonthly: usage,
    isManagementKey: false,
    expiresAt: null
  })
  yield* send(
    new ApiKeyCommands.RecordKeyStatus({
      keyId: ApiKeyId.make(F.keyA),
      status: status(maskKey(F.keyAPlaintext), 4_500_000, 20_000_000),
      at: at("2026-11-02T00:00:00Z")
    }),
    null
  )
  yield* send(
    new ApiKeyCommands.RecordKeyStatus({
      keyId: ApiKeyId.make(F.keyB),
      status: status(maskKey(F.keyBPlaintext), 1_000_000, null),
      at: at("2026-11-02T00:00:00Z")
    }),
    null
  )
  const usage = (keyId: string, date: string, model: string, mode: "absolute" | "increment", cost: number) =>
    send(
      new UsageCommands.RecordUsage({
        keyId: ApiKeyId.make(keyId),
        date: date as never,
        model,
        mode,
        figures: {
          requests: 12,
          tokensInput: 3400,
          tokensOutput: 1200,
          cost: Math.round(cost * 1_000_000),
          byokCost: 0
        },
        at: at(`${date}T23:00:00Z`)
      }),
      null
    )
  yield* usage(F.keyA, "2026-10-30", "openai/gpt-4o-mini", "absolute", 0.75)
  yield* usage(F.keyA, "2026-10-31", "anthropic/claude-3.5-sonnet", "absolute", 2.25)
  yield* usage(F.keyA, "2026-10-31", "openai/gpt-4o-mini", "absolute", 0.5)
  yield* usage(F.keyA, "2026-10-31", "openai/gpt-4o-mini", "absolute", 0.6)
  yield* usage(F.keyA, "2026-11-01", "unattributed", "increment", 0.4)
  yield* usage(F.keyB, "2026-10-31", "openai/gpt-4o-mini", "absolute", 1)
  yield* usage(F.keyC, "2026-10-31", "openai/gpt-4o-mini", "absolute", 3)

  yield* send(
    new ApiKeyCommands.RenameKey({
      keyId: ApiKeyId.make(F.keyB),
      userId,
      name: "Staging (old)",
      at: at("2026-11-03T08:00:00Z")
    }),
    F.userId
  )
  yield* send(
    new ApiKeyCommands.SetKeyActive({
      keyId: ApiKeyId.make(F.keyB),
      userId,
      isActive: false,
      at: at("2026-11-03T08:01:00Z")
    }),
    F.userId
  )
  yield* send(
    new ApiTokenCommands.IssueToken({
      tokenId: ApiTokenId.make(F.tokenId),
      userId,
      name: "CI",
      tokenHash: hashApiToken(F.token),
      at: at("2026-11-03T09:00:00Z")
    }),
    F.userId
  )
  yield* send(
    new ApiTokenCommands.IssueToken({
      tokenId: ApiTokenId.make(F.revokedTokenId),
      userId,
      name: "Old laptop",
      tokenHash: hashApiToken(F.revokedToken),
      at: at("2026-11-03T09:01:00Z")
    }),
    F.userId
  )
  yield* send(
    new ApiTokenCommands.RevokeToken({
      tokenId: ApiTokenId.make(F.revokedTokenId),
      userId,
      at: at("2026-11-03T09:02:00Z")
    }),
    F.userId
  )
})

await Effect.runPromise(
  program.pipe(Effect.provide(Layer.merge(Core.layerFile(output), Passwords.Default)), Effect.scoped)
)
console.log(`wrote ${output}`)
