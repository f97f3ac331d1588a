import { Schema } from "effect"

/**
 * What a stored key's status says, in the order of the rule: `inactive` when the user switched it
 * off, else `invalid` (upstream said 401), else `failing` (a sync gave up after its retries), else
 * `active`. The one definition of the rule: the projection, the JSON API, the dashboard, `/metrics`
 * and `orw replay` all derive a key's status from it.
 */
export const KeyHealth = Schema.Literal("active", "invalid", "failing", "inactive")
export type KeyHealth = typeof KeyHealth.Type

/** The flags a key's status is derived from. */
export interface KeyFlags {
  readonly isActive: boolean
  readonly invalid: boolean
  readonly failing: boolean
}

/** A key's status from its flags; see {@link KeyHealth}. */
export const keyHealth = (flags: KeyFlags): KeyHealth =>
  !flags.isActive ? "inactive" : flags.invalid ? "invalid" : flags.failing ? "failing" : "active"

/**
 * Whether the background sync polls the key: only a key that is switched on and not refused by
 * upstream. An invalid key waits until the user edits or re-activates it.
 */
export const isPolled = (flags: KeyFlags): boolean => flags.isActive && !flags.invalid
