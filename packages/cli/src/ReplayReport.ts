import { microsToUsd, normalizeEmail } from "@orw/domain"
import { table } from "./Output.js"
import type { KeyView, Snapshot, UserView } from "./ReplayState.js"
import { keyStatus, spendOf, usageSum } from "./ReplayState.js"

const usd = (micros: number | null) => (micros === null ? null : microsToUsd(micros))

const keyReport = (key: KeyView, owner: UserView | undefined, today: string) => {
  const status = key.state._tag === "Present" ? key.state.status : null
  const sum = usageSum(key.usage)
  const spend = spendOf(key.usage, today)
  return {
    id: key.keyId,
    name: key.name,
    label: key.label === "" ? null : key.label,
    status: keyStatus(key, owner),
    last_status:
      status === null
        ? null
        : {
            usage: usd(status.usage),
            usage_daily: usd(status.usageDaily),
            usage_weekly: usd(status.usageWeekly),
            usage_monthly: usd(status.usageMonthly),
            limit: usd(status.limit),
            limit_remaining: usd(status.limitRemaining)
          },
    usage: {
      requests: sum.requests,
      tokens_input: sum.tokensInput,
      tokens_output: sum.tokensOutput,
      cost: microsToUsd(sum.cost)
    },
    /** The recorded spend of the replay point's UTC day: the keys page's "Today (recorded)" as of then. */
    today: { date: today, requests: spend.today.requests, cost: microsToUsd(spend.today.cost) }
  }
}

const userReport = (user: UserView, snapshot: Snapshot, today: string) => ({
  id: user.userId,
  email: user.email,
  status: user.state._tag === "Deleted" ? "deleted" : "registered",
  keys: Array.from(snapshot.keys.values())
    .filter((key) => key.userId === user.userId && key.state._tag !== "NotAdded")
    .map((key) => keyReport(key, user, today)),
  tokens: Array.from(snapshot.tokens.values())
    .filter((token) => token.userId === user.userId && token.state._tag !== "NotIssued")
    .map((token) => ({
      id: token.tokenId,
      name: token.name,
      status: token.state._tag === "Active" ? "active" : "revoked"
    }))
})

/** The replayed state of the chosen users (all when `email` is undefined), in registration order. */
export const report = (
  snapshot: Snapshot,
  point: { readonly position: number; readonly recordedAt: string | null },
  email: string | undefined
) => ({
  position: point.position,
  recorded_at: point.recordedAt,
  users: Array.from(snapshot.users.values())
    .filter((user) => user.state._tag !== "Unregistered")
    .filter((user) => email === undefined || normalizeEmail(user.email) === normalizeEmail(email))
    .map((user) => userReport(user, snapshot, point.recordedAt?.slice(0, 10) ?? new Date().toISOString().slice(0, 10)))
})
export type Report = ReturnType<typeof report>

/** USD with 2 to 6 decimals: `$1.50`, `$0.123456`. */
const money = (value: number | null | undefined) =>
  value === null || value === undefined ? "-" : `$${value.toFixed(6).replace(/0{1,4}$/, "")}`

const section = (title: string, lines: ReadonlyArray<string>) => [
  `  ${title}:`,
  ...(lines.length <= 1 ? ["    (none)"] : lines.map((line) => `    ${line}`))
]

/** The report as text: per user, a keys table, a usage table and a tokens table. */
export const renderText = (r: Report): Array<string> => {
  const lines = [`State as of position ${r.position}${r.recorded_at === null ? "" : ` (recorded ${r.recorded_at})`}`]
  if (r.users.length === 0) lines.push("", "No users")
  for (const user of r.users) {
    lines.push("", `User ${user.email} (${user.id}), ${user.status}`)
    const keys = table(
      ["ID", "NAME", "LABEL", "STATUS", "USAGE", "DAILY", "WEEKLY", "MONTHLY", "LIMIT", "REMAINING"],
      user.keys.map((k) => [
        k.id,
        k.name,
        k.label ?? "-",
        k.status,
        money(k.last_status?.usage),
        money(k.last_status?.usage_daily),
        money(k.last_status?.usage_weekly),
        money(k.last_status?.usage_monthly),
        k.last_status === null ? "-" : k.last_status.limit === null ? "unlimited" : money(k.last_status.limit),
        money(k.last_status?.limit_remaining)
      ])
    )
    const usage = table(
      ["KEY", "NAME", "REQUESTS", "TOKENS IN", "TOKENS OUT", "COST", "TODAY"],
      user.keys.map((k) => [
        k.id,
        k.name,
        String(k.usage.requests),
        String(k.usage.tokens_input),
        String(k.usage.tokens_output),
        money(k.usage.cost),
        money(k.today.cost)
      ])
    )
    const tokens = table(
      ["ID", "NAME", "STATUS"],
      user.tokens.map((t) => [t.id, t.name, t.status])
    )
    lines.push(...section("Keys", keys), ...section("Usage totals", usage), ...section("Tokens", tokens))
  }
  return lines
}
