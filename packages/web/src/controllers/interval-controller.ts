import type { ReactiveController, ReactiveControllerHost } from "lit"
import { isRetrying } from "./server-task.js"

/**
 * Calls `tick` every `ms` while the host is on the page and the tab is visible, so a page can
 * refresh live figures without polling from a hidden tab; not while a read is retrying an unreachable
 * server (it refreshes as soon as the server answers; a tick would only restart its backoff).
 */
export class IntervalController implements ReactiveController {
  private _timer: ReturnType<typeof setInterval> | undefined

  constructor(
    host: ReactiveControllerHost,
    private readonly ms: number,
    private readonly tick: () => void
  ) {
    host.addController(this)
  }

  hostConnected(): void {
    this._timer = setInterval(() => {
      if (document.visibilityState === "visible" && !isRetrying()) this.tick()
    }, this.ms)
  }

  hostDisconnected(): void {
    clearInterval(this._timer)
    this._timer = undefined
  }
}
