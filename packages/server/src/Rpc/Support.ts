import type { UserId } from "@orw/domain"
import { CurrentUser } from "@orw/domain/Rpc"
import { Effect } from "effect"
import { type Origin, originOf } from "../App/Origin.js"

/** The signed-in user and the origin of the commands they send: source `rpc`, actor = the user. */
export const caller = Effect.map(CurrentUser, ({ userId }): { readonly userId: UserId; readonly origin: Origin } => ({
  userId,
  origin: originOf("rpc")
}))
