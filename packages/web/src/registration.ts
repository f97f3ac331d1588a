/*
 * What the registration form checks before it sends anything: the rules the server applies (the same
 * functions, from the domain), so a newcomer never spends one of the few attempts per minute the auth
 * rate limit allows on a request the page knows will be refused.
 */
import { isAcceptedEmail } from "@orw/domain/User/Email"
import { passwordProblems } from "@orw/domain/User/Password"

/** The problems of the filled-in form, per field; empty when it may be sent. */
export interface RegistrationProblems {
  readonly email?: string
  readonly password?: ReadonlyArray<string>
  readonly confirm?: string
}

export const registrationProblems = (email: string, password: string, confirm: string): RegistrationProblems => {
  const problems: { email?: string; password?: ReadonlyArray<string>; confirm?: string } = {}
  if (!isAcceptedEmail(email)) problems.email = "Enter an email address such as name@example.com"
  const broken = passwordProblems(password)
  if (broken.length > 0) problems.password = broken
  if (confirm !== password) problems.confirm = "Passwords do not match"
  return problems
}

export const isSendable = (problems: RegistrationProblems): boolean =>
  problems.email === undefined && problems.password === undefined && problems.confirm === undefined

/** Seconds of a `Retry-After` header (delta-seconds or an HTTP date), at least 1; undefined when absent or unreadable. */
export const retryAfterSeconds = (header: string | null | undefined, now: Date): number | undefined => {
  if (header === null || header === undefined || header.trim() === "") return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Math.max(1, Number(text))
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - now.getTime()) / 1000))
}

/** "Too many attempts: try again in 42 s (at 14:03:12 UTC)", from the 429's `Retry-After`. */
export const tooManyAttempts = (header: string | null | undefined, now: Date): string => {
  const seconds = retryAfterSeconds(header, now)
  if (seconds === undefined) return "Too many attempts: wait a minute and try again."
  const at = new Date(now.getTime() + seconds * 1000).toISOString().slice(11, 19)
  return `Too many attempts: try again in ${seconds} s (at ${at} UTC).`
}
