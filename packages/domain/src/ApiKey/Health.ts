import { Schema } from "effect"

/**
 * What a stored key's status says, in the order of the rule: `inactive` when the user switched it
 * off, else `invalid` (upstream said 401), else `failing` (a sync gave up after its retries), else
 * `limit reached` (the last `/key` said `limit_remaining` is 0: OpenRouter answers its calls with 402),
 * else `active`. The one definition of the rule: the projection, the JSON API, the dashboard, `/metrics`
 * and `orw replay` all derive a key's status from it.
 */
export const KeyHealth = Schema.Literal("active", "invalid", "failing", "inactive", "limit reached")
export type KeyHealth = typeof KeyHealth.Type

/** The flags a key's status is derived from. */
export interface KeyFlags {
  readonly isActive: boolean
  readonly invalid: boolean
  readonly failing: boolean
  /** What is left of the key's limit at the last sync, micro-dollars; null or absent = no limit or not known. */
  readonly limitRemaining?: number | null | undefined
}

/** A key's status from its flags; see {@link KeyHealth}. */
export const keyHealth = (flags: KeyFlags): KeyHealth =>
  !flags.isActive
    ? "inactive"
    : flags.invalid
      ? "invalid"
      : flags.failing
        ? "failing"
        : flags.limitRemaining === 0
          ? "limit reached"
          : "active"

/**
 * Whether a sync of the key may run at all, whoever asks: the background fibers, "Sync now"
 * (`POST /api/keys/{id}/sync`, the web app's button) or `orw sync`. Only a key that is switched on:
 * switching a key off is how its owner says "stop calling OpenRouter with it", and whatever a sync
 * recorded about an inactive key would not show (its status is `inactive` whatever upstream says) and
 * re-activation clears it anyway. A refused manual sync answers `KeyInactive` (400).
 */
export const isSyncable = (flags: Pick<KeyFlags, "isActive">): boolean => flags.isActive

/**
 * Whether the background sync polls the key: a syncable key that upstream has not refused. An invalid
 * key waits until the user edits or re-activates it; its owner may still check it with "Sync now".
 */
export const isPolled = (flags: KeyFlags): boolean => isSyncable(flags) && !flags.invalid
