import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Schema } from "effect"
import { tooManyAttempts } from "./registration.js"

/** A refusal of the JSON auth API, with the server's `detail` as the message. */
export class AuthError extends Schema.TaggedError<AuthError>()("AuthError", {
  message: Schema.String,
  /** Field-level problems of a 422 (or the password rules broken), when the server listed them. */
  problems: Schema.Array(Schema.String),
  /** Set when the server could not be reached at all (nothing was decided). */
  unreachable: Schema.optional(Schema.Boolean)
}) {}

const Detail = Schema.Struct({ detail: Schema.Unknown })

/** `detail` is a string, or a list of `{msg}` / strings for validation errors. */
const problemsOf = (detail: unknown): Array<string> =>
  Array.isArray(detail)
    ? detail.map((item) =>
        typeof item === "object" && item !== null && "msg" in item ? String(item.msg) : String(item)
      )
    : []

const send = (method: "POST" | "DELETE", path: string, body?: Record<string, string>) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.make(method)(path, { acceptJson: true })
    const response = yield* client.execute(
      body === undefined ? request : HttpClientRequest.bodyUnsafeJson(request, body)
    )
    // Read the body to its end even when nothing in it is needed: a body left unread is cancelled when the
    // request's scope closes, and the browser then shows the sign-in as an aborted request.
    if (response.status >= 200 && response.status < 300) return yield* Effect.asVoid(Effect.ignore(response.text))
    // The rate limit says when the next attempt is allowed; say it rather than "try again later".
    if (response.status === 429)
      return yield* new AuthError({
        message: tooManyAttempts(response.headers["retry-after"], new Date()),
        problems: []
      })
    const parsed = yield* response.json.pipe(Effect.flatMap(Schema.decodeUnknown(Detail)), Effect.option)
    const detail = parsed._tag === "Some" ? parsed.value.detail : undefined
    const problems = problemsOf(detail)
    const message =
      typeof detail === "string"
        ? detail
        : problems.length > 0
          ? problems.join("; ")
          : `The server answered ${response.status}`
    return yield* new AuthError({ message, problems })
  }).pipe(
    Effect.catchTag("RequestError", "ResponseError", () =>
      Effect.fail(new AuthError({ message: "The server cannot be reached", problems: [], unreachable: true }))
    )
  )

const post = (path: string, body?: Record<string, string>) => send("POST", path, body)

/** Signs in: the server sets the HttpOnly session cookie. */
export const login = (email: string, password: string) => post("/api/auth/login", { email, password })

/** Creates an account (it does not sign in). */
export const register = (email: string, password: string, passwordConfirm: string) =>
  post("/api/auth/register", { email, password, password_confirm: passwordConfirm })

/** Signs out: the server clears the session cookie. */
export const logout = post("/api/auth/logout")

/**
 * Deletes the account (the password confirms it). Through the JSON API, not the RPC: its answer clears the
 * session cookie, so no sign-out call follows that the server, the user gone, could only refuse (a 401).
 */
export const deleteAccount = (password: string) => send("DELETE", "/api/users/me", { password })
