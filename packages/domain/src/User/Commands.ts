import { Schema } from "effect"
import { UserId } from "../Ids.js"

export class RegisterUser extends Schema.TaggedClass<RegisterUser>()("RegisterUser", {
  userId: UserId,
  email: Schema.String,
  passwordHash: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class ChangePassword extends Schema.TaggedClass<ChangePassword>()("ChangePassword", {
  userId: UserId,
  passwordHash: Schema.String,
  at: Schema.DateTimeUtc
}) {}

export class DeleteUser extends Schema.TaggedClass<DeleteUser>()("DeleteUser", {
  userId: UserId,
  at: Schema.DateTimeUtc
}) {}

export const UserCommand = Schema.Union(RegisterUser, ChangePassword, DeleteUser)
export type UserCommand = typeof UserCommand.Type
