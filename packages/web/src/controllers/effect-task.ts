import { ContextConsumer } from "@lit/context"
import { Task, type TaskConfig } from "@lit/task"
import { Cause, type Effect, Exit, Option } from "effect"
import type { ReactiveControllerHost } from "lit"
import { runtimeContext } from "../contexts/runtime-context.js"
import type { AppServices } from "../runtime.js"
import { type Attempt, isUnreachable, markOffline, markSettled, sleep, untilAnswered, type Waiting } from "./retry.js"

/** Fired (bubbling, composed) when a call finds the session gone; `<orw-app>` sends the user to /login. */
export const UNAUTHENTICATED_EVENT = "orw-unauthenticated"

/**
 * Fired on `window` when a read starts waiting for an unreachable server (`offline: true`) and
 * when it stops waiting (`offline: false`); `<orw-app>` shows "offline, retrying" while any task waits.
 */
export const CONNECTIVITY_EVENT = "orw-connectivity"
export interface Connectivity {
  readonly id: number
  readonly offline: boolean
}

let nextId = 0
/** The reads of this page waiting for the server right now. */
let waiting: Waiting = new Set()

/** Whether some read is retrying an unreachable server: a periodic refresh then has nothing to add. */
export const isRetrying = (): boolean => waiting.size > 0

/** Options of an {@link EffectTask}: @lit/task's, with an Effect in place of the async function. */
export interface EffectTaskConfig<T extends ReadonlyArray<unknown>, A, E> {
  readonly effect: (args: T) => Effect.Effect<A, E, AppServices>
  readonly args?: () => T
  /**
   * Defaults to true: a read, retried while the server is unreachable (the figures already shown stay,
   * since @lit/task keeps `value` while a run is pending). Actions (forms, buttons) pass false and call
   * `run(args)`; they are never repeated behind the user's back, and fail with "cannot be reached".
   */
  readonly autoRun?: boolean | "afterUpdate"
  readonly onComplete?: (value: A) => unknown
}

/** The error a failed effect rejects with: its typed failure (a readable `message`), else the squashed defect. */
const rejection = (cause: Cause.Cause<unknown>): unknown =>
  Option.getOrElse(Cause.failureOption(cause), () => Cause.squash(cause))

const isUnauthenticated = (error: unknown) =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "Unauthenticated"

/**
 * The bridge between Lit and Effect: a @lit/task that runs an Effect on the runtime provided
 * through `runtimeContext`. Lit's AbortSignal interrupts the fiber, so a superseded run, an
 * explicit `abort()` or the host leaving the page cancels the in-flight call.
 */
export class EffectTask<const T extends ReadonlyArray<unknown>, A, E = never> extends Task<T, A> {
  constructor(host: ReactiveControllerHost & HTMLElement, config: EffectTaskConfig<T, A, E>) {
    const runtime = new ContextConsumer(host, { context: runtimeContext })
    const id = nextId++
    const announce = (offline: boolean) => {
      waiting = offline ? markOffline(waiting, id) : markSettled(waiting, id)
      // On window: the "settled" of a page being left must still reach the app, from a detached host.
      window.dispatchEvent(new CustomEvent<Connectivity>(CONNECTIVITY_EVENT, { detail: { id, offline } }))
    }
    const retries = config.autoRun !== false
    const options: TaskConfig<T, A> = {
      autoRun: config.autoRun ?? true,
      task: async (args, { signal }) => {
        const attempt = async (): Promise<Attempt<A>> => {
          if (runtime.value === undefined) throw new Error("No Effect runtime: render inside <orw-app>")
          const exit = await runtime.value.runPromiseExit(config.effect(args), { signal })
          return Exit.isSuccess(exit) ? { ok: true, value: exit.value } : { ok: false, error: rejection(exit.cause) }
        }
        const value = retries
          ? untilAnswered(attempt, signal, { offline: () => announce(true), settled: () => announce(false), sleep })
          : attempt().then((outcome) => {
              if (outcome.ok) return outcome.value
              throw outcome.error
            })
        return value.catch((error: unknown) => {
          if (isUnauthenticated(error))
            host.dispatchEvent(new Event(UNAUTHENTICATED_EVENT, { bubbles: true, composed: true }))
          throw error
        })
      },
      ...(config.args === undefined ? {} : { args: config.args }),
      ...(config.onComplete === undefined ? {} : { onComplete: config.onComplete })
    }
    super(host, options)
  }

  /** Leaving the page interrupts whatever is still running. */
  hostDisconnected(): void {
    this.abort()
  }
}

/** The message to show for a task's error. */
export const errorMessage = (error: unknown): string =>
  isUnreachable(error)
    ? "The server cannot be reached: try again once it is back."
    : typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
      ? error.message
      : String(error)
