import type {
  ApiKeyState,
  ApiTokenState,
  DomainEvent,
  KeySpend,
  UsageFiguresSum,
  UsageLine,
  UsageState,
  UserState
} from "@orw/domain"
import {
  effectiveLines,
  evolveApiKey,
  evolveApiToken,
  evolveUsage,
  evolveUser,
  initialApiKeyState,
  initialApiTokenState,
  initialUsageState,
  initialUserState,
  keyHealth,
  keySpend,
  sumUsage
} from "@orw/domain"
import { HashMap } from "effect"

/** One user as of the replay point; `email` outlives the state's `Deleted` form. */
export interface UserView {
  readonly userId: string
  readonly email: string
  readonly state: UserState
}

/** One key: its decider state plus what the state drops (name once deleted, label). */
export interface KeyView {
  readonly keyId: string
  readonly userId: string
  readonly name: string
  readonly label: string
  readonly state: ApiKeyState
  readonly usage: UsageState
}

export interface TokenView {
  readonly tokenId: string
  readonly userId: string
  readonly name: string
  readonly state: ApiTokenState
}

/** The state of every aggregate folded from a prefix of the log, with the domain's evolve functions. */
export interface Snapshot {
  readonly users: Map<string, UserView>
  readonly keys: Map<string, KeyView>
  readonly tokens: Map<string, TokenView>
}

export const emptySnapshot = (): Snapshot => ({ users: new Map(), keys: new Map(), tokens: new Map() })

const newKey = (keyId: string, userId: string): KeyView => ({
  keyId,
  userId,
  name: "",
  label: "",
  state: initialApiKeyState(),
  usage: initialUsageState()
})

/** Applies one event to the snapshot (mutating its maps; the views themselves stay immutable). */
export const applyEvent = (snapshot: Snapshot, event: DomainEvent): void => {
  switch (event._tag) {
    case "UserRegistered":
    case "PasswordChanged":
    case "UserDeleted":
    case "KeyAttached":
    case "KeyDetached": {
      const user = snapshot.users.get(event.userId) ?? { userId: event.userId, email: "", state: initialUserState() }
      const email = event._tag === "UserRegistered" ? event.email : user.email
      snapshot.users.set(event.userId, { ...user, email, state: evolveUser(user.state, event) })
      return
    }
    case "EmailClaimed":
    case "EmailReleased":
    // Budgets, alerts and webhooks are not part of the replayed keys-and-stats view.
    case "BudgetCreated":
    case "BudgetChanged":
    case "BudgetDeleted":
    case "BudgetThresholdCrossed":
    case "BudgetForecastExceeded":
    case "BudgetSlotClaimed":
    case "BudgetSlotReleased":
    case "KeySpendSpiked":
    case "WebhookAdded":
    case "WebhookDeleted":
      return
    case "UsageRecorded": {
      const key = snapshot.keys.get(event.keyId) ?? newKey(event.keyId, event.userId)
      snapshot.keys.set(event.keyId, { ...key, usage: evolveUsage(key.usage, event) })
      return
    }
    // A finding of the reconciliation: no state of a key or its usage changes with it.
    case "UsageDiscrepancyFound":
      return
    case "TokenIssued":
    case "TokenRevoked": {
      const token = snapshot.tokens.get(event.tokenId) ?? {
        tokenId: event.tokenId,
        userId: event.userId,
        name: "",
        state: initialApiTokenState()
      }
      const name = event._tag === "TokenIssued" ? event.name : token.name
      snapshot.tokens.set(event.tokenId, { ...token, name, state: evolveApiToken(token.state, event) })
      return
    }
    default: {
      const key = snapshot.keys.get(event.keyId) ?? newKey(event.keyId, event.userId)
      const state = evolveApiKey(key.state, event)
      const name = state._tag === "Present" ? state.name : key.name
      const label =
        event._tag === "KeyAdded"
          ? event.label
          : state._tag === "Present" && state.status
            ? state.status.label
            : key.label
      snapshot.keys.set(event.keyId, { ...key, name, label, state })
    }
  }
}

/** What a key's status column says (the domain's `keyHealth`); a key whose owner is deleted counts as deleted. */
export const keyStatus = (key: KeyView, owner: UserView | undefined): string =>
  key.state._tag !== "Present" || owner?.state._tag === "Deleted"
    ? "deleted"
    : keyHealth({ ...key.state, limitRemaining: key.state.status?.limitRemaining ?? null })

/** A key's recorded (date, model) lines as its usage state holds them. */
const linesOf = (usage: UsageState): Array<UsageLine> =>
  Array.from(HashMap.entries(usage.totals), ([slot, totals]) => ({
    keyId: "",
    date: slot.slice(0, 10),
    model: slot.slice(11),
    requests: totals.requests,
    tokensInput: totals.tokensInput,
    tokensOutput: totals.tokensOutput,
    cost: totals.cost
  }))

/** A key's usage totals over all days, with the domain's supersede rule and sums. */
export const usageSum = (usage: UsageState): UsageFiguresSum => sumUsage(effectiveLines(linesOf(usage)))

/** A key's spend of `today` and of all time: the domain's `keySpend`, as the keys page shows it. */
export const spendOf = (usage: UsageState, today: string): KeySpend => keySpend(linesOf(usage), today)
