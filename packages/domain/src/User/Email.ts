/** Emails compare case-insensitively and without surrounding space. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase()

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/
export const EMAIL_MAX_LENGTH = 255

/**
 * Whether the server accepts `email` as an address (after {@link normalizeEmail}): the one rule, shared by
 * the decider (the authority) and the web app's registration form (which does not send what it knows is refused).
 */
export const isAcceptedEmail = (email: string): boolean => {
  const normalized = normalizeEmail(email)
  return EMAIL.test(normalized) && normalized.length <= EMAIL_MAX_LENGTH
}
