import { describe, expect, it } from "@effect/vitest"
import { isPolled, isSyncable, type KeyFlags, keyHealth } from "../src/ApiKey/Health.js"

const flags = (isActive: boolean, invalid: boolean, failing: boolean): KeyFlags => ({ isActive, invalid, failing })

describe("a key's health and whether it is synced", () => {
  it.each<[KeyFlags, string, boolean, boolean]>([
    // flags                      status      syncable  polled
    [flags(true, false, false), "active", true, true],
    [flags(true, false, true), "failing", true, true],
    [flags(true, true, false), "invalid", true, false],
    [flags(true, true, true), "invalid", true, false],
    [flags(false, false, false), "inactive", false, false],
    [flags(false, true, false), "inactive", false, false],
    [flags(false, false, true), "inactive", false, false],
    [flags(false, true, true), "inactive", false, false]
  ])("%o is %s, syncable %s, polled %s", (key, status, syncable, polled) => {
    expect(keyHealth(key)).toBe(status)
    expect(isSyncable(key)).toBe(syncable)
    expect(isPolled(key)).toBe(polled)
  })

  it("never polls a key that may not be synced: the fibers and Sync now agree on inactive keys", () => {
    for (const isActive of [true, false])
      for (const invalid of [true, false])
        for (const failing of [true, false]) {
          const key = flags(isActive, invalid, failing)
          if (isPolled(key)) expect(isSyncable(key)).toBe(true)
          expect(isSyncable(key)).toBe(keyHealth(key) !== "inactive")
        }
  })
})
