import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type { DomainCommand } from "@orw/domain"
import {
  ApiKeyCommands,
  ApiKeyId,
  ApiTokenCommands,
  ApiTokenId,
  Micros,
  SyncCommands,
  UsageCommands,
  UserCommands,
  UserId,
  UtcDate
} from "@orw/domain"
import { Core } from "@orw/server"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Logger, LogLevel, Redacted, TestClock, TestContext } from "effect"

/** Values that must never reach the CLI's output. */
export const SECRETS = {
  ciphertext: "CIPHERTEXT-of-k-main-2f9c1e",
  ciphertextOld: "CIPHERTEXT-of-k-old-77aa01",
  passwordHash: "$argon2id$v=19$PASSWORD-HASH-alice",
  newPasswordHash: "$argon2id$v=19$PASSWORD-HASH-alice-2",
  tokenHash: "TOKEN-HASH-of-t-ci-5d0e"
} as const

export const ALICE = { id: "u-alice", email: "alice@example.com" } as const
export const BOB = { id: "u-bob", email: "bob@example.com" } as const

export interface Fixture {
  readonly dir: string
  readonly file: string
  /** Last position of day 2, before the key rename, key deletion, revocation and user deletion. */
  readonly beforeChanges: number
  readonly head: number
}

const meta = (actor: string | null) =>
  ({ actor, source: "web", correlationId: "corr", causationId: null, requestId: null }) as const

const plaintextKey = (digit: string) => `sk-or-v1-${digit.repeat(64)}`
const at = (iso: string) => DateTime.unsafeMake(iso)

const seed = Effect.gen(function* () {
  const dispatcher = yield* Dispatcher
  let head = 0
  const run = (actor: string | null, iso: string, command: DomainCommand) =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse(iso))
      const events = yield* dispatcher.dispatch(command, { metadata: meta(actor) })
      head = events.at(-1)?.position ?? head
    })
  const alice = UserId.make(ALICE.id)
  const bob = UserId.make(BOB.id)
  const key = (id: string, userId: UserId, name: string, ciphertext: string, digit: string, iso: string) =>
    run(
      userId,
      iso,
      new ApiKeyCommands.AddKey({
        keyId: ApiKeyId.make(id),
        userId,
        name,
        key: Redacted.make(plaintextKey(digit)),
        label: `sk-or-v1-${digit.repeat(3)}...${digit.repeat(3)}`,
        keyHash: `hash-${id}`,
        ciphertext,
        maxKeysPerUser: 10,
        at: at(iso)
      })
    )
  const usage = (
    keyId: string,
    date: string,
    model: string,
    mode: "absolute" | "increment",
    figures: ReadonlyArray<number>
  ) => {
    const [requests = 0, tokensInput = 0, tokensOutput = 0, cost = 0] = figures
    const iso = "2026-03-02T12:00:00.000Z"
    return run(
      null,
      iso,
      new UsageCommands.RecordUsage({
        keyId: ApiKeyId.make(keyId),
        date: UtcDate.make(date),
        model,
        mode,
        figures: { requests, tokensInput, tokensOutput, cost, byokCost: 0 },
        at: at(iso)
      })
    )
  }
  // Day 1: two users, three keys, a token.
  const day1 = "2026-03-01T09:00:00.000Z"
  yield* run(
    null,
    day1,
    new UserCommands.RegisterUser({ userId: alice, ...ALICE, passwordHash: SECRETS.passwordHash, at: at(day1) })
  )
  yield* key("k-main", alice, "Primary", SECRETS.ciphertext, "a", "2026-03-01T09:10:00.000Z")
  yield* key("k-old", alice, "Old", SECRETS.ciphertextOld, "b", "2026-03-01T09:20:00.000Z")
  const day1b = "2026-03-01T09:30:00.000Z"
  yield* run(
    alice,
    day1b,
    new ApiTokenCommands.IssueToken({
      tokenId: ApiTokenId.make("t-ci"),
      userId: alice,
      name: "ci",
      tokenHash: SECRETS.tokenHash,
      at: at(day1b)
    })
  )
  const day1c = "2026-03-01T10:00:00.000Z"
  yield* run(
    null,
    day1c,
    new UserCommands.RegisterUser({ userId: bob, ...BOB, passwordHash: "bob-hash", at: at(day1c) })
  )
  yield* key("k-bob", bob, "Bobs", "CIPHERTEXT-of-k-bob", "c", "2026-03-01T10:10:00.000Z")
  // Day 2: a status and usage; on 03-02 the per-model row supersedes the unattributed one.
  const day2 = "2026-03-02T08:00:00.000Z"
  const status = {
    label: "sk-or-v1-aaa...aaa",
    limit: Micros.make(10_000_000),
    limitRemaining: Micros.make(8_500_000),
    limitReset: null,
    usage: Micros.make(1_500_000),
    usageDaily: Micros.make(250_000),
    usageWeekly: Micros.make(750_000),
    usageMonthly: Micros.make(1_500_000),
    isManagementKey: false,
    expiresAt: null
  }
  // The key's first snapshot: its baseline, so it records the status and no usage.
  yield* run(
    null,
    day2,
    new SyncCommands.RecordKeySnapshot({
      keyId: ApiKeyId.make("k-main"),
      status,
      at: at(day2),
      day: UtcDate.make("2026-03-02")
    })
  )
  yield* usage("k-main", "2026-03-02", "unattributed", "increment", [10, 0, 0, 1_000_000])
  yield* usage("k-main", "2026-03-02", "openai/gpt-4o", "absolute", [4, 100, 50, 400_000])
  yield* usage("k-main", "2026-03-01", "unattributed", "increment", [2, 0, 0, 250_000])
  yield* usage("k-bob", "2026-03-02", "anthropic/claude", "absolute", [1, 10, 5, 30_000])
  const beforeChanges = head
  // Day 3: rename, delete a key, revoke the token, change a password, delete bob.
  const day3 = "2026-03-03T15:00:00.000Z"
  yield* run(
    alice,
    day3,
    new ApiKeyCommands.EditKey({ keyId: ApiKeyId.make("k-main"), userId: alice, name: "Renamed", at: at(day3) })
  )
  yield* run(alice, day3, new ApiKeyCommands.DeleteKey({ keyId: ApiKeyId.make("k-old"), userId: alice, at: at(day3) }))
  yield* run(
    alice,
    day3,
    new ApiTokenCommands.RevokeToken({ tokenId: ApiTokenId.make("t-ci"), userId: alice, at: at(day3) })
  )
  yield* run(
    alice,
    day3,
    new UserCommands.ChangePassword({ userId: alice, passwordHash: SECRETS.newPasswordHash, at: at(day3) })
  )
  yield* run(bob, day3, new UserCommands.DeleteUser({ userId: bob, at: at(day3) }))
  return { beforeChanges, head }
})

/** A fresh database file in a temp dir, filled through the real dispatcher with a controlled clock. */
export const makeFixture = async (): Promise<Fixture> => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-cli-"))
  const file = NodePath.join(dir, "app.db")
  const positions = await Effect.runPromise(
    seed.pipe(
      Effect.provide(Core.layerFile(file)),
      Effect.provide(TestContext.TestContext),
      Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
  )
  return { dir, file, ...positions }
}
