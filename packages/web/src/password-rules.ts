/**
 * The password rules the server enforces (12 to 128 characters, an upper-case letter, a
 * lower-case letter, a digit and a special character), checked as the user types. The
 * server's verdict stays the authority; this only tells early.
 */
export const PASSWORD_RULES: ReadonlyArray<{ readonly label: string; readonly test: (password: string) => boolean }> = [
  { label: "12 to 128 characters", test: (p) => [...p].length >= 12 && [...p].length <= 128 },
  { label: "an upper-case letter", test: (p) => /\p{Lu}/u.test(p) },
  { label: "a lower-case letter", test: (p) => /\p{Ll}/u.test(p) },
  { label: "a digit", test: (p) => /\p{Nd}/u.test(p) },
  { label: "a special character (anything but letters and digits)", test: (p) => /[^\p{L}\p{N}]/u.test(p) }
]
