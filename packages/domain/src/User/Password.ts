/** Length bounds of a password, in characters (code points). */
export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 128

/**
 * The password rules, shared by the server (the authority) and the web app (which checks as
 * the user types): 12 to 128 characters, an uppercase letter, a lowercase letter, a digit and
 * a special character. Letters are Unicode-aware, and "special" is anything that is neither
 * a letter nor a digit: a superset of the original's `!@#$%^&*`, so nobody has to guess.
 */
export const PASSWORD_RULES: ReadonlyArray<{
  readonly label: string
  readonly message: (password: string) => string
  readonly test: (password: string) => boolean
}> = [
  {
    label: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
    message: (p) =>
      [...p].length < PASSWORD_MIN_LENGTH
        ? `Password must be at least ${PASSWORD_MIN_LENGTH} characters`
        : `Password must be at most ${PASSWORD_MAX_LENGTH} characters`,
    test: (p) => [...p].length >= PASSWORD_MIN_LENGTH && [...p].length <= PASSWORD_MAX_LENGTH
  },
  {
    label: "an upper-case letter",
    message: () => "Password must contain uppercase letter",
    test: (p) => /\p{Lu}/u.test(p)
  },
  {
    label: "a lower-case letter",
    message: () => "Password must contain lowercase letter",
    test: (p) => /\p{Ll}/u.test(p)
  },
  { label: "a digit", message: () => "Password must contain digit", test: (p) => /\p{Nd}/u.test(p) },
  {
    label: "a special character (anything but letters and digits)",
    message: () => "Password must contain special character",
    test: (p) => /[^\p{L}\p{N}]/u.test(p)
  }
]

/** What is wrong with a new password, in the original's words; empty when it is acceptable. */
export const passwordProblems = (password: string): ReadonlyArray<string> =>
  PASSWORD_RULES.filter((rule) => !rule.test(password)).map((rule) => rule.message(password))
