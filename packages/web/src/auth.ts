import { tooManyAttempts } from "./registration.js"

/** A refusal of the JSON auth API, with the server's `detail` as the message. */
export class AuthError extends Error {
  readonly _tag = "AuthError"
  /** Field-level problems of a 422 (or the password rules broken), when the server listed them. */
  readonly problems: ReadonlyArray<string>
  /** Set when the server could not be reached at all (nothing was decided). */
  readonly unreachable?: boolean

  constructor(props: {
    readonly message: string
    readonly problems: ReadonlyArray<string>
    readonly unreachable?: true
  }) {
    super(props.message)
    this.name = "AuthError"
    this.problems = props.problems
    if (props.unreachable !== undefined) this.unreachable = props.unreachable
  }
}

/** `detail` is a string, or a list of `{msg}` / strings for validation errors. */
const problemsOf = (detail: unknown): Array<string> =>
  Array.isArray(detail)
    ? detail.map((item) =>
        typeof item === "object" && item !== null && "msg" in item ? String(item.msg) : String(item)
      )
    : []

/** The `detail` of a JSON body `{detail}`, undefined when the body is not that. */
const detailOf = async (response: Response): Promise<unknown> => {
  try {
    const body: unknown = await response.json()
    return typeof body === "object" && body !== null && "detail" in body ? body.detail : undefined
  } catch {
    return undefined
  }
}

const send = async (method: "POST" | "DELETE", path: string, body?: Record<string, string>): Promise<void> => {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers:
        body === undefined
          ? { accept: "application/json" }
          : { accept: "application/json", "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
  } catch {
    throw new AuthError({ message: "The server cannot be reached", problems: [], unreachable: true })
  }
  // Read the body to its end even when nothing in it is needed, so the browser never shows the sign-in as an
  // aborted request.
  if (response.status >= 200 && response.status < 300) {
    await response.text().catch(() => undefined)
    return
  }
  // The rate limit says when the next attempt is allowed; say it rather than "try again later".
  if (response.status === 429)
    throw new AuthError({ message: tooManyAttempts(response.headers.get("retry-after"), new Date()), problems: [] })
  const detail = await detailOf(response)
  const problems = problemsOf(detail)
  const message =
    typeof detail === "string"
      ? detail
      : problems.length > 0
        ? problems.join("; ")
        : `The server answered ${response.status}`
  throw new AuthError({ message, problems })
}

const post = (path: string, body?: Record<string, string>) => send("POST", path, body)

/** Signs in: the server sets the HttpOnly session cookie. */
export const login = (email: string, password: string) => post("/api/auth/login", { email, password })

/** Creates an account (it does not sign in). */
export const register = (email: string, password: string, passwordConfirm: string) =>
  post("/api/auth/register", { email, password, password_confirm: passwordConfirm })

/** Signs out: the server clears the session cookie. */
export const logout = () => post("/api/auth/logout")

/**
 * Deletes the account (the password confirms it). Through the JSON API, not the RPC: its answer clears the
 * session cookie, so no sign-out call follows that the server, the user gone, could only refuse (a 401).
 */
export const deleteAccount = (password: string) => send("DELETE", "/api/users/me", { password })
