import { Schema } from "effect"
import { ApiKeyCommand } from "./ApiKey/Commands.js"
import { ApiTokenCommand } from "./ApiToken/Commands.js"
import { SyncCommand } from "./Sync/Commands.js"
import { RecordUsage } from "./Usage/Commands.js"
import { UserCommand } from "./User/Commands.js"

/** Every command of every aggregate. */
export const DomainCommand = Schema.Union(UserCommand, ApiKeyCommand, ApiTokenCommand, RecordUsage, SyncCommand)
export type DomainCommand = typeof DomainCommand.Type
