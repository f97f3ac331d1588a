import { HttpApp, HttpServerResponse } from "@effect/platform"
import { SESSION_COOKIE } from "@orw/domain/Api"
import { Duration, Effect, Redacted } from "effect"
import { CurrentRequest } from "./RequestContext.js"

const cookie = (value: string, maxAge: Duration.Duration) =>
  Effect.flatMap(CurrentRequest, (request) =>
    HttpApp.appendPreResponseHandler((_request, response) =>
      Effect.orDie(
        HttpServerResponse.setCookie(response, SESSION_COOKIE, value, {
          httpOnly: true,
          sameSite: "strict",
          secure: request.secure,
          path: "/",
          maxAge
        })
      )
    )
  )

/** Sets the session cookie (HttpOnly, SameSite=Strict, Secure over https) on this request's response. */
export const setSessionCookie = (token: Redacted.Redacted<string>, expiresInSeconds: number) =>
  cookie(Redacted.value(token), Duration.seconds(expiresInSeconds))

/** Clears the session cookie on this request's response. */
export const clearSessionCookie = cookie("", Duration.zero)
