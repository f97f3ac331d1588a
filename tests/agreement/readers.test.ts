import { applyEvent, emptySnapshot, keyStatus, usageSum } from "@orw/cli/src/ReplayState.js"
import type { DomainCommand } from "@orw/domain"
import { ApiKeyCommands, ApiKeyId, UsageCommands, UserCommands, UserId, UtcDate } from "@orw/domain"
import { Core } from "@orw/server"
import { Stats } from "@orw/server/App/Stats"
import { Dispatcher } from "@orw/server/Dispatcher"
import { EventStore } from "@orw/server/EventStore"
import * as ApiKeys from "@orw/server/Projections/ApiKeys"
import { dashboard } from "@orw/server/Rpc/Dashboard"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { describe, expect, it } from "vitest"

/*
 * Every reader derives a key's status and its usage totals from the domain's one rule: the JSON API's
 * key rows, the public API, the dashboard and `orw replay` (which folds the log alone) must agree.
 */

const at = DateTime.unsafeMake("2026-03-02T12:00:00.000Z")
const meta = { actor: null, source: "cli", correlationId: "c", causationId: null, requestId: null } as const
const userId = UserId.make("u1")

const addKey = (id: string, digit: string) =>
  new ApiKeyCommands.AddKey({
    keyId: ApiKeyId.make(id),
    userId,
    name: id,
    key: Redacted.make(`sk-or-v1-${digit.repeat(64)}`),
    label: `sk-or-v1-${digit.repeat(3)}...${digit.repeat(3)}`,
    keyHash: `hash-${id}`,
    ciphertext: `sealed-${id}`,
    maxKeysPerUser: 10,
    at
  })

const usage = (keyId: string, date: string, model: string, cost: number, requests: number) =>
  new UsageCommands.RecordUsage({
    keyId: ApiKeyId.make(keyId),
    date: UtcDate.make(date),
    model,
    mode: "absolute",
    figures: { requests, tokensInput: requests * 10, tokensOutput: requests * 5, cost, byokCost: 0 },
    at
  })

const commands: ReadonlyArray<DomainCommand> = [
  new UserCommands.RegisterUser({ userId, email: "u1@example.com", passwordHash: "hash", at }),
  addKey("k-off-invalid", "a"),
  addKey("k-failing", "b"),
  addKey("k-invalid", "c"),
  // Switched off, then a manual sync hears 401: inactive wins (the user's choice), everywhere.
  new ApiKeyCommands.EditKey({ keyId: ApiKeyId.make("k-off-invalid"), userId, isActive: false, at }),
  new ApiKeyCommands.MarkKeyInvalid({ keyId: ApiKeyId.make("k-off-invalid"), at }),
  new ApiKeyCommands.RecordSyncFailure({ keyId: ApiKeyId.make("k-failing"), error: "upstream 503", at }),
  new ApiKeyCommands.MarkKeyInvalid({ keyId: ApiKeyId.make("k-invalid"), at }),
  // 03-01: growth seen first, then the per-model split, which supersedes it; 03-02 is still running.
  usage("k-failing", "2026-03-01", "unattributed", 900_000, 0),
  usage("k-failing", "2026-03-01", "openai/gpt-4.1", 600_000, 4),
  usage("k-failing", "2026-03-01", "anthropic/claude-sonnet-4", 250_001, 2),
  usage("k-failing", "2026-03-02", "unattributed", 333_333, 0),
  usage("k-invalid", "2026-03-01", "unattributed", 1_000_000, 0)
]

describe("one rule for every reader", () => {
  it("a key's status and usage are the same from the API, the dashboard and orw replay", async () => {
    const program = Effect.gen(function* () {
      const dispatcher = yield* Dispatcher
      for (const command of commands) yield* dispatcher.dispatch(command, { metadata: meta })
      const store = yield* EventStore
      const snapshot = emptySnapshot()
      for (const stored of yield* store.readAll(0, 10_000)) applyEvent(snapshot, stored.event)
      const rows = yield* ApiKeys.rowsOf(userId)
      const stats = yield* Stats
      const v1 = yield* stats.keys(userId)
      const total = yield* stats.stats(userId, {})
      const board = yield* dashboard(userId, {
        start_date: UtcDate.make("2026-03-01"),
        end_date: UtcDate.make("2026-03-02")
      })
      return { snapshot, rows, v1, total, board }
    }).pipe(Effect.provide(Stats.Default.pipe(Layer.provideMerge(Core.layerFile(":memory:")))))
    const { snapshot, rows, v1, total, board } = await Effect.runPromise(program)

    const owner = snapshot.users.get(userId)
    const replayed = rows.map((row) => {
      const key = snapshot.keys.get(row.id)
      if (key === undefined) throw new Error(`replay lost ${row.id}`)
      return { id: row.id, status: keyStatus(key, owner), cost: usageSum(key.usage).cost / 1_000_000 }
    })
    // Keys added at the same instant list by id.
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ["k-failing", "failing"],
      ["k-invalid", "invalid"],
      ["k-off-invalid", "inactive"]
    ])
    expect(replayed.map((r) => [r.id, r.status])).toEqual(rows.map((r) => [r.id, r.status]))

    // 03-01 counts its per-model rows (0.850001), 03-02 its running unattributed row (0.333333).
    expect(v1.items.map((k) => [k.id, k.stats.total_cost])).toEqual([
      ["k-failing", 1.183334],
      ["k-invalid", 1],
      ["k-off-invalid", 0]
    ])
    expect(replayed.map((r) => [r.id, r.cost])).toEqual(v1.items.map((k) => [k.id, k.stats.total_cost]))
    expect(total.summary.total_cost).toBe(2.183334)
    expect(board.summary.total_cost).toBe(total.summary.total_cost)
    expect(board.summary.total_requests).toBe(total.summary.total_requests)
    expect(board.by_key.map((k) => [k.key_id, k.cost]).sort()).toEqual(
      v1.items.map((k) => [k.id, k.stats.total_cost]).sort()
    )
  })
})
