import { Schema } from "effect"
import { ApiKeyEvent } from "./ApiKey/Events.js"
import { ApiTokenEvent } from "./ApiToken/Events.js"
import { BudgetEvent, BudgetSlotEvent, SpikeEvent } from "./Budget/Events.js"
import { UsageDiscrepancyFound } from "./Reconciliation/Events.js"
import { UsageRecorded } from "./Usage/Events.js"
import { normalizeEmail } from "./User/Decider.js"
import { EmailEvent, UserEvent } from "./User/Events.js"
import { WebhookEvent } from "./Webhook/Events.js"

/** Every event of every aggregate. */
export const DomainEvent = Schema.Union(
  UserEvent,
  EmailEvent,
  ApiKeyEvent,
  ApiTokenEvent,
  UsageRecorded,
  UsageDiscrepancyFound,
  BudgetEvent,
  BudgetSlotEvent,
  SpikeEvent,
  WebhookEvent
)
export type DomainEvent = typeof DomainEvent.Type
export type DomainEventType = DomainEvent["_tag"]

/** Stream ids: one stream per aggregate instance. */
export const Streams = {
  user: (userId: string) => `user-${userId}`,
  email: (email: string) => `email-${normalizeEmail(email)}`,
  key: (keyId: string) => `key-${keyId}`,
  token: (tokenId: string) => `token-${tokenId}`,
  usage: (keyId: string) => `usage-${keyId}`,
  discrepancies: (keyId: string) => `discrepancies-${keyId}`,
  budget: (budgetId: string) => `budget-${budgetId}`,
  budgetSlot: (slot: string) => `budget-slot-${slot}`,
  spike: (keyId: string) => `spike-${keyId}`,
  webhook: (webhookId: string) => `webhook-${webhookId}`
} as const

/** The stream an event belongs to, read off the event itself. */
export const streamOf = (event: DomainEvent): string => {
  switch (event._tag) {
    case "UserRegistered":
    case "PasswordChanged":
    case "UserDeleted":
    case "KeyAttached":
    case "KeyDetached":
      return Streams.user(event.userId)
    case "EmailClaimed":
    case "EmailReleased":
      return Streams.email(event.email)
    case "KeyAdded":
    case "KeyRenamed":
    case "KeyActiveSet":
    case "KeyDeleted":
    case "KeyStatusRecorded":
    case "KeyMarkedInvalid":
    case "KeySyncFailed":
    case "KeyLimitSet":
      return Streams.key(event.keyId)
    case "TokenIssued":
    case "TokenRevoked":
      return Streams.token(event.tokenId)
    case "UsageRecorded":
      return Streams.usage(event.keyId)
    case "UsageDiscrepancyFound":
      return Streams.discrepancies(event.keyId)
    case "BudgetCreated":
    case "BudgetChanged":
    case "BudgetDeleted":
    case "BudgetThresholdCrossed":
    case "BudgetForecastExceeded":
      return Streams.budget(event.budgetId)
    case "BudgetSlotClaimed":
    case "BudgetSlotReleased":
      return Streams.budgetSlot(event.slot)
    case "KeySpendSpiked":
      return Streams.spike(event.keyId)
    case "WebhookAdded":
    case "WebhookDeleted":
      return Streams.webhook(event.webhookId)
  }
}

/**
 * An upcaster lifts the stored JSON of one event type from `fromVersion` to
 * `fromVersion + 1`. Stored events are never rewritten; they are upcast on read.
 */
export interface Upcaster {
  readonly type: string
  readonly fromVersion: number
  readonly up: (data: Record<string, unknown>) => Record<string, unknown>
}

/**
 * The schema version written for new events of each type. Raise it together with an
 * upcaster from the previous version when an event's shape changes.
 */
export const currentSchemaVersion = (_type: string): number => 1

/** The upcasters in force. None yet: every event type is at version 1. */
export const upcasters: ReadonlyArray<Upcaster> = []
