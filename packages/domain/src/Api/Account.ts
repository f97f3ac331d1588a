import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  ConcurrencyConflict,
  CurrentPasswordIncorrect,
  PasswordIncorrect,
  ServerBusy,
  UserNotFound
} from "../Errors.js"
import { Password, SessionResponse, UserResponse } from "./Auth.js"
import { json } from "./Errors.js"
import { SessionAuth } from "./Security.js"

export class ChangePasswordRequest extends Schema.Class<ChangePasswordRequest>("ChangePasswordRequest")({
  current_password: Password,
  new_password: Password,
  new_password_confirm: Password
}) {}

/** The password confirms a deletion, as it does in the web UI. */
export class DeleteAccountRequest extends Schema.Class<DeleteAccountRequest>("DeleteAccountRequest")({
  password: Password
}) {}

/** The signed-in user's account: the JSON side of the original's `/profile`. */
export class AccountApi extends HttpApiGroup.make("account")
  .add(
    HttpApiEndpoint.get("me", "/api/users/me")
      .addSuccess(UserResponse)
      .addError(json(UserNotFound))
      .annotate(OpenApi.Summary, "The signed-in user")
  )
  .add(
    HttpApiEndpoint.put("changePassword", "/api/users/me/password")
      .setPayload(ChangePasswordRequest)
      .addSuccess(SessionResponse)
      .addError(json(CurrentPasswordIncorrect))
      .addError(json(ServerBusy))
      .addError(json(UserNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(
        OpenApi.Description,
        "Changes the password. Every session issued before the change stops working; the answer is a new " +
          "session (also set as the cookie)."
      )
  )
  .add(
    HttpApiEndpoint.del("deleteAccount", "/api/users/me")
      .setPayload(DeleteAccountRequest)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(json(PasswordIncorrect))
      .addError(json(ServerBusy))
      .addError(json(UserNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Delete the account, its keys (crypto-shredded) and tokens; the password confirms it")
  )
  .middleware(SessionAuth) {}
