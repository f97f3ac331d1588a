import { Duration } from "effect"

/** The first retry comes within this; each next one waits twice as long, up to {@link MAX_DELAY}. */
export const FIRST_DELAY = Duration.seconds(4)
export const MAX_DELAY = Duration.minutes(10)
/** A delivery still failing this long after it was created is given up (`failed`). */
export const GIVE_UP_AFTER = Duration.hours(24)
/** How long one attempt may take before it counts as a timeout. */
export const ATTEMPT_TIMEOUT = Duration.seconds(10)

/**
 * The wait after the `failures`-th failed attempt (1 = after the first): exponential, capped, with "equal
 * jitter" (half fixed, half random, `random` in [0, 1)), so receivers that come back are not hit by every
 * sender at once, and the first retry is always within 4 s.
 */
export const retryDelay = (failures: number, random: number): Duration.Duration => {
  const base = Math.min(Duration.toMillis(MAX_DELAY), Duration.toMillis(FIRST_DELAY) * 2 ** Math.max(0, failures - 1))
  return Duration.millis(Math.round(base / 2 + (random * base) / 2))
}
