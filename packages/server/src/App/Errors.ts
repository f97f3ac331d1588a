import { BadRequest, Conflict, Forbidden, NotFound, Unauthorized, Unprocessable } from "@orw/domain/Api"
import { Effect } from "effect"

const classes = {
  400: BadRequest,
  401: Unauthorized,
  403: Forbidden,
  404: NotFound,
  409: Conflict,
  422: Unprocessable
} as const

/** A status the contract answers with a `{"detail"}` body. */
export type ContractStatus = keyof typeof classes

/** The contract's error for a status. */
export type ContractError<S extends ContractStatus = ContractStatus> = InstanceType<(typeof classes)[S]>

/** The contract's error for `status` with `detail`. */
export const contractError = <S extends ContractStatus>(status: S, detail: string): ContractError<S> =>
  new classes[status]({ detail }) as ContractError<S>

/**
 * Turns the rejections an operation can meet (domain errors, a ConcurrencyConflict: anything with a
 * `status` and the contract's `message`) into the contract's errors. A rejection with another status
 * is a bug at the call site: it dies, so it is logged and answered 500 instead of leaking as a 4xx.
 */
export const answer =
  <const S extends ContractStatus>(...statuses: ReadonlyArray<S>) =>
  <A, E extends { readonly status: number; readonly message: string }, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<A, ContractError<S>, R> =>
    Effect.catchAll(self, (error) =>
      (statuses as ReadonlyArray<number>).includes(error.status)
        ? Effect.fail(contractError(error.status as S, error.message))
        : Effect.die(error)
    )
