import { ContextConsumer } from "@lit/context"
import { Task, type TaskConfig } from "@lit/task"
import { Cause, type Effect, Exit, Option } from "effect"
import type { ReactiveControllerHost } from "lit"
import { runtimeContext } from "../contexts/runtime-context.js"
import type { AppServices } from "../runtime.js"

/** Fired (bubbling, composed) when a call finds the session gone; `<orw-app>` sends the user to /login. */
export const UNAUTHENTICATED_EVENT = "orw-unauthenticated"

/** Options of an {@link EffectTask}: @lit/task's, with an Effect in place of the async function. */
export interface EffectTaskConfig<T extends ReadonlyArray<unknown>, A, E> {
  readonly effect: (args: T) => Effect.Effect<A, E, AppServices>
  readonly args?: () => T
  /** Defaults to true; actions (forms, buttons) pass false and call `run(args)`. */
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
    const options: TaskConfig<T, A> = {
      autoRun: config.autoRun ?? true,
      task: async (args, { signal }) => {
        if (runtime.value === undefined) throw new Error("No Effect runtime: render inside <orw-app>")
        const exit = await runtime.value.runPromiseExit(config.effect(args), { signal })
        if (Exit.isSuccess(exit)) return exit.value
        const error = rejection(exit.cause)
        if (isUnauthenticated(error))
          host.dispatchEvent(new Event(UNAUTHENTICATED_EVENT, { bubbles: true, composed: true }))
        throw error
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
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)
