import { ApiKeyCommands, ApiKeyId, BudgetCommands, BudgetId, maskKey, UserCommands, UserId } from "@orw/domain"
import { DateTime, Effect, Option, Redacted } from "effect"
import { metadataOf, originOf } from "../App/Origin.js"
import { Passwords } from "../Auth/Passwords.js"
import { KeyVault, keyHash } from "../Crypto/KeyVault.js"
import { Dispatcher } from "../Dispatcher.js"
import type { Scenario } from "../OpenRouter/Simulator.js"
import * as Users from "../Projections/Users.js"

/** The demo login, printed at start. */
export const DEMO_EMAIL = "demo@openrouter-watcher.local"
export const DEMO_PASSWORD = "Demo-Password-2026!"

const metadata = metadataOf(originOf("system", "demo-seed"), "demo")

/**
 * Seeds the demo account once: the user and every key of the scenario (sealed like any key). The figures
 * all come through the normal sync, as for any user: the year of history through analytics on the first
 * sync with the management key, the last 30 days through activity, today through hourly analytics.
 */
export const seedDemo = (scenario: Scenario) =>
  Effect.gen(function* () {
    if (Option.isSome(yield* Users.byEmail(DEMO_EMAIL))) return { seeded: false as const }
    const dispatcher = yield* Dispatcher
    const vault = yield* KeyVault
    const passwords = yield* Passwords
    const at = yield* DateTime.now
    const userId = UserId.make("demo-user")
    const passwordHash = yield* passwords.hash(Redacted.make(DEMO_PASSWORD))
    yield* dispatcher.dispatch(new UserCommands.RegisterUser({ userId, email: DEMO_EMAIL, passwordHash, at }), {
      metadata
    })
    for (const [index, simKey] of scenario.keys.entries()) {
      const keyId = ApiKeyId.make(`demo-key-${index + 1}`)
      const secret = Redacted.make(simKey.key)
      const { ciphertext, vaultRow } = yield* vault.seal(keyId, userId, secret)
      yield* dispatcher.dispatch(
        new ApiKeyCommands.AddKey({
          keyId,
          userId,
          name: simKey.name,
          key: secret,
          label: maskKey(simKey.key),
          keyHash: keyHash(secret),
          ciphertext,
          maxKeysPerUser: 100,
          at
        }),
        { metadata, inTransaction: vault.storeInTransaction(vaultRow) }
      )
    }
    // A small monthly account budget ($1): the first sync's figures for this month cross its thresholds, so it
    // fires soon after start (and the alerts page has something to show); the sync keeps deciding it.
    yield* dispatcher.dispatch(
      new BudgetCommands.CreateBudget({
        budgetId: BudgetId.make("demo-budget-month"),
        userId,
        scope: "account",
        keyId: null,
        amount: 1_000_000,
        period: "monthly",
        thresholds: [50, 80, 100],
        at
      }),
      { metadata }
    )
    return { seeded: true as const }
  })
