import { Task, type TaskConfig } from "@lit/task"
import type { ReactiveControllerHost } from "lit"
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

/** Options of a {@link ServerTask}: @lit/task's, the task being a call to the server. */
export interface ServerTaskConfig<T extends ReadonlyArray<unknown>, A> {
  /** The call: `signal` aborts it (a superseded run, `abort()`, the host leaving the page). */
  readonly task: (args: T, signal: AbortSignal) => Promise<A>
  readonly args?: () => T
  /**
   * Defaults to true: a read, retried while the server is unreachable (the figures already shown stay,
   * since @lit/task keeps `value` while a run is pending). Actions (forms, buttons) pass false and call
   * `run(args)`; they are never repeated behind the user's back, and fail with "cannot be reached".
   */
  readonly autoRun?: boolean | "afterUpdate"
  readonly onComplete?: (value: A) => unknown
}

/** An action run by a task with `autoRun: false`: the call, made when the task runs it. */
export type Action<A> = (signal: AbortSignal) => Promise<A>

const isUnauthenticated = (error: unknown) =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "Unauthenticated"

/**
 * A @lit/task that calls the server: a read retries while the server cannot be reached (announcing it on
 * `window` for the offline notice), a session gone sends the user to /login. Lit's AbortSignal cancels the
 * call, so a superseded run, an explicit `abort()` or the host leaving the page cancels the request in flight.
 */
export class ServerTask<const T extends ReadonlyArray<unknown>, A> extends Task<T, A> {
  constructor(host: ReactiveControllerHost & HTMLElement, config: ServerTaskConfig<T, A>) {
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
        const attempt = (): Promise<Attempt<A>> =>
          config.task(args, signal).then(
            (value) => ({ ok: true, value }),
            (error: unknown) => ({ ok: false, error })
          )
        const value = retries
          ? untilAnswered(attempt, signal, { offline: () => announce(true), settled: () => announce(false), sleep })
          : config.task(args, signal)
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

  /** Leaving the page cancels whatever is still running. */
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
