import type { BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable } from "@orw/domain/Api"
import {
  AccessDenied,
  ConcurrentChange,
  CurrentUser,
  InvalidRequest,
  ResourceNotFound,
  Unauthenticated,
  ValidationFailed
} from "@orw/domain/Rpc"
import { Effect } from "effect"
import type { ContractError } from "../App/Errors.js"
import type { Origin } from "../App/Origin.js"

/** The JSON API's refusal that corresponds to each RPC refusal. */
type Refusal<E> = E extends BadRequest
  ? InvalidRequest
  : E extends Forbidden
    ? AccessDenied
    : E extends NotFound
      ? ResourceNotFound
      : E extends Conflict
        ? ConcurrentChange
        : E extends Unprocessable
          ? ValidationFailed
          : E extends Unauthorized
            ? Unauthenticated
            : never

const refusal = (error: ContractError): Refusal<ContractError> => {
  switch (error._tag) {
    case "BadRequest":
      return new InvalidRequest({ detail: error.detail })
    case "Forbidden":
      return new AccessDenied({ detail: error.detail })
    case "NotFound":
      return new ResourceNotFound({ detail: error.detail })
    case "Conflict":
      return new ConcurrentChange({ detail: error.detail })
    case "Unprocessable":
      return new ValidationFailed({ detail: error.detail, problems: (error.errors ?? []).map((e) => e.message) })
    case "Unauthorized":
      return new Unauthenticated({ detail: error.detail })
  }
}

/** Turns the application services' JSON-API refusals into the RPC's tagged errors, status for status. */
export const refused = <A, E extends ContractError, R>(effect: Effect.Effect<A, E, R>) =>
  // One refusal per status: the mapped type names exactly the tags `E` can become.
  Effect.mapError(effect, (error) => refusal(error) as Refusal<E>)

/** The signed-in user and the origin of the commands they send: source `rpc`, actor = the user. */
export const caller = Effect.map(CurrentUser, ({ userId }): { readonly userId: string; readonly origin: Origin } => ({
  userId,
  origin: { source: "rpc", correlationId: crypto.randomUUID(), requestId: null }
}))
