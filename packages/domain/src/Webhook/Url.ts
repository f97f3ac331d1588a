import { Either } from "effect"
import { InvalidWebhookUrl } from "../Errors.js"

const ipv4 = (host: string): ReadonlyArray<number> | null => {
  const parts = host.split(".")
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null
  const numbers = parts.map(Number)
  return numbers.every((n) => n <= 255) ? numbers : null
}

/** Loopback, private, link-local, unspecified or CGNAT addresses, and `localhost` names. */
export const isPrivateHost = (hostname: string): boolean => {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "")
  if (host === "localhost" || host.endsWith(".localhost") || host === "") return true
  const v4 = ipv4(host.startsWith("::ffff:") ? host.slice(7) : host)
  if (v4 !== null) {
    const [a = 0, b = 0] = v4
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    )
  }
  if (host.includes(":")) {
    return (
      host === "::" || host === "::1" || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith("::ffff:")
    )
  }
  return false
}

/** An http(s) URL of at most 2048 characters, without credentials; private hosts only when allowed. */
export const checkWebhookUrl = (text: string, allowPrivate: boolean): Either.Either<string, InvalidWebhookUrl> => {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    return Either.left(new InvalidWebhookUrl({ reason: "not a URL" }))
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(new InvalidWebhookUrl({ reason: "only http and https are allowed" }))
  }
  if (text.length > 2048) return Either.left(new InvalidWebhookUrl({ reason: "at most 2048 characters" }))
  if (url.username !== "" || url.password !== "") {
    return Either.left(new InvalidWebhookUrl({ reason: "credentials in the URL are not allowed" }))
  }
  if (!allowPrivate && isPrivateHost(url.hostname)) {
    return Either.left(
      new InvalidWebhookUrl({
        reason: "loopback and private hosts are refused (WEBHOOK_ALLOW_PRIVATE=true allows them)"
      })
    )
  }
  return Either.right(url.href)
}
