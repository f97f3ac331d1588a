import { Schema } from "effect"
import { ApiKeyCommand } from "./ApiKey/Commands.js"
import { ApiTokenCommand } from "./ApiToken/Commands.js"
import { BudgetCommand } from "./Budget/Commands.js"
import { ReconcileUsage } from "./Reconciliation/Commands.js"
import { SyncCommand } from "./Sync/Commands.js"
import { RecordUsage } from "./Usage/Commands.js"
import { UserCommand } from "./User/Commands.js"
import { WebhookCommand } from "./Webhook/Commands.js"

/** Every command of every aggregate. */
export const DomainCommand = Schema.Union(
  UserCommand,
  ApiKeyCommand,
  ApiTokenCommand,
  RecordUsage,
  SyncCommand,
  ReconcileUsage,
  BudgetCommand,
  WebhookCommand
)
export type DomainCommand = typeof DomainCommand.Type
