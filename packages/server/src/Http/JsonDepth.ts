/** How deep the contract's bodies may nest: theirs is 2 (an object of fields, an RPC message's payload 3). */
export const MAX_JSON_DEPTH = 32

/**
 * Whether a JSON text nests arrays and objects deeper than `max`, found in one pass without parsing it (and
 * without recursion): a body 2,300 levels deep parses, but formatting why it does not match a schema
 * recurses once per level and overflows the stack. Brackets inside strings do not count.
 */
export const nestsDeeperThan = (text: string, max = MAX_JSON_DEPTH): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
