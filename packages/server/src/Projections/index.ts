import { AlertsProjection } from "./Alerts.js"
import { ApiKeysProjection } from "./ApiKeys.js"
import { ApiTokensProjection } from "./ApiTokens.js"
import { BudgetsProjection } from "./Budgets.js"
import { DiscrepanciesProjection } from "./Discrepancies.js"
import type { Projection } from "./Projection.js"
import { UsageStatsProjection } from "./UsageStats.js"
import { UsersProjection } from "./Users.js"
import { WebhooksProjection } from "./Webhooks.js"

export type { Projection } from "./Projection.js"

/** Every inline projection, in the order they are applied. */
export const allProjections: ReadonlyArray<Projection> = [
  UsersProjection,
  ApiKeysProjection,
  UsageStatsProjection,
  ApiTokensProjection,
  BudgetsProjection,
  AlertsProjection,
  WebhooksProjection,
  DiscrepanciesProjection
]
