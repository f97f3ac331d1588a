import type { KeyStatus } from "../../src/ApiKey/Events.js"
import { Micros } from "../../src/Money.js"

/** An upstream `GET /key` status as the domain records it, with `fields` overridden. */
export const keyStatus = (fields: Partial<KeyStatus> = {}): KeyStatus => ({
  label: "sk-or-v1-012...def",
  limit: Micros.make(10_000_000),
  limitRemaining: Micros.make(7_500_000),
  limitReset: "monthly",
  usage: Micros.make(2_500_000),
  usageDaily: Micros.make(100_000),
  usageWeekly: Micros.make(700_000),
  usageMonthly: Micros.make(2_500_000),
  isManagementKey: false,
  expiresAt: null,
  ...fields
})
