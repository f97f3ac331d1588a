/**
 * Given/when/then for our deciders, after emmett's `DeciderSpecification`
 * (`event-driven-io/emmett@6e30879:src/packages/emmett/src/testing/deciderSpecification.ts`).
 *
 * Our deciders decide on a *context* of several stream states (a key command sees its
 * owner's keyring and the key itself), so `given` takes the events of each stream by
 * name and folds each list with that stream's own `evolve`:
 *
 * ```ts
 * const keys = spec({ user: stream(initialUserState, evolveUser), key: stream(initialApiKeyState, evolveApiKey) },
 *   decideApiKey)
 * keys.given({ user: [registered], key: [added] }).when(renameKey).then([renamed])
 * ```
 */
import { addEqualityTesters, expect } from "@effect/vitest"
import { Either } from "effect"

// Events are Schema classes holding DateTimes: compare them with Effect's `Equal`, not by prototype walk.
addEqualityTesters()

/** How one stream of a decider's context is folded from its events. */
export interface Stream<S, E> {
  // Method syntax on purpose: it keeps `Stream<UserState, UserEvent>` assignable to `AnyStream`.
  initial(): S
  evolve(state: S, event: E): S
}

type AnyStream = Stream<unknown, never>
type StateOf<T> = T extends Stream<infer S, infer _E> ? S : never
type EventOf<T> = T extends Stream<infer _S, infer E> ? E : never

/** The context a decider sees: one folded state per stream. */
export type Context<Ss extends Record<string, AnyStream>> = { readonly [K in keyof Ss]: StateOf<Ss[K]> }

/** Past events per stream; a stream left out is at its initial state. */
export type History<Ss extends Record<string, AnyStream>> = { readonly [K in keyof Ss]?: ReadonlyArray<EventOf<Ss[K]>> }

export const stream = <S, E>(initial: () => S, evolve: (state: S, event: E) => S): Stream<S, E> => ({
  initial,
  evolve
})

/** A rejection is named by its class, or by a predicate when its fields matter. */
export type ExpectedError<Err> = (abstract new (...args: never) => Err) | ((error: Err) => boolean)

const isErrorClass = <Err>(expected: ExpectedError<Err>): expected is abstract new (...args: never) => Err =>
  expected.prototype instanceof Error

export const spec = <Ss extends Record<string, AnyStream>, C, E, Err>(
  streams: Ss,
  decide: (command: C, context: Context<Ss>) => Either.Either<ReadonlyArray<E>, Err>
) => {
  const fold = (history: History<Ss>): Context<Ss> => {
    const context: Partial<Record<keyof Ss, unknown>> = {}
    for (const name of Object.keys(streams) as Array<keyof Ss>) {
      const { initial, evolve } = streams[name]!
      const events = (history[name] ?? []) as ReadonlyArray<never>
      context[name] = events.reduce((state, event) => evolve(state, event), initial())
    }
    return context as Context<Ss>
  }

  const whenOn = (context: Context<Ss>) => ({
    /** The folded context, to check `evolve` itself. */
    state: (): Context<Ss> => context,
    when: (command: C) => {
      const decision = decide(command, context)
      const accepted = (): ReadonlyArray<E> => {
        if (Either.isLeft(decision)) {
          expect.fail(`expected the command to be accepted, it was rejected with ${String(decision.left)}`)
        }
        return decision.right
      }
      /** Rejected with this error class, or an error the predicate accepts; returns the error for further checks. */
      function thenFails(expected: (error: Err) => boolean): Err
      function thenFails<X extends Err>(expected: abstract new (...args: never) => X): X
      function thenFails(expected: ExpectedError<Err>): Err {
        if (Either.isRight(decision)) {
          expect.fail(`expected a rejection, the command was accepted with ${JSON.stringify(decision.right)}`)
        }
        const error = decision.left
        if (isErrorClass(expected)) expect(error).toBeInstanceOf(expected)
        else expect(expected(error), `unexpected rejection ${String(error)}`).toBe(true)
        return error
      }
      return {
        /** Accepted with exactly these events, in this order; returns them for further checks. */
        // biome-ignore lint/suspicious/noThenProperty: given/when/then is the vocabulary; this object is never awaited
        then: (expected: ReadonlyArray<E>): ReadonlyArray<E> => {
          const events = accepted()
          expect(events).toEqual(expected)
          return events
        },
        /** Accepted, but nothing changes: no event. */
        thenNothing: (): void => {
          expect(accepted()).toEqual([])
        },
        thenFails
      }
    }
  })

  return {
    /** The past of each stream of the context. */
    given: (history: History<Ss> = {}) => whenOn(fold(history)),
    /** A context stated directly, for states no event sequence reaches. */
    givenState: (context: Context<Ss>) => whenOn(context)
  }
}
