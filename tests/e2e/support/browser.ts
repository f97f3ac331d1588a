import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import {
  type BrowserContext,
  chromium,
  type Page,
  type Browser as PlaywrightBrowser,
  type Request
} from "playwright-core"

/** Debian's Chromium, headless, with nothing that phones home. */
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** A browser with a fresh profile; every console error, page error and CSP violation of its pages is collected. */
export interface Browser {
  readonly context: BrowserContext
  readonly page: Page
  /** Console errors and uncaught page errors, in order. */
  readonly errors: Array<string>
  /** Content-Security-Policy violations (`directive blocked-uri`), in order. */
  readonly violations: Array<string>
  readonly close: () => Promise<void>
}

declare global {
  interface Window {
    /** Set by the init script: reports a CSP violation to the test. */
    orwReportViolation?: (violation: string) => void
  }
}

export const launch = async (): Promise<Browser> => {
  const profile = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 }
  })
  const errors: Array<string> = []
  const violations: Array<string> = []
  await context.exposeFunction("orwReportViolation", (violation: string) => void violations.push(violation))
  // Injected through the DevTools protocol, so the page's own CSP does not apply to it.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) =>
      window.orwReportViolation?.(`${event.violatedDirective} ${event.blockedURI}`)
    )
  })
  const page = context.pages()[0] ?? (await context.newPage())
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text())
  })
  page.on("pageerror", (error) => void errors.push(`page error: ${error.message}`))
  return {
    context,
    page,
    errors,
    violations,
    close: async () => {
      await context.close()
      NodeFs.rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** A page in a context of its own (one per theme), with what it logged collected as in {@link launch}. */
export interface ThemedPage {
  readonly context: BrowserContext
  readonly page: Page
  readonly errors: Array<string>
  readonly violations: Array<string>
  /** Requests that failed or were aborted (`method url: reason`), in order. */
  readonly failedRequests: Array<string>
  /** Requests started whose response has not been read to its end (nor failed) yet: `method url`. */
  readonly unfinished: () => Array<string>
}

/** One headless Chromium for many contexts: cheaper than a browser per theme. */
export const launchBrowser = () => chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ARGS })

/** A fresh context that prefers `theme` (`prefers-color-scheme` emulation), collecting errors and CSP violations. */
export const themedPage = async (
  browser: PlaywrightBrowser,
  theme: "light" | "dark",
  viewport = { width: 1280, height: 900 }
): Promise<ThemedPage> => {
  const context = await browser.newContext({ colorScheme: theme, viewport })
  const errors: Array<string> = []
  const violations: Array<string> = []
  const failedRequests: Array<string> = []
  await context.exposeFunction("orwReportViolation", (violation: string) => void violations.push(violation))
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) =>
      window.orwReportViolation?.(`${event.violatedDirective} ${event.blockedURI}`)
    )
  })
  const page = await context.newPage()
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text())
  })
  page.on("pageerror", (error) => void errors.push(`page error: ${error.message}`))
  const pending = new Set<Request>()
  page.on("request", (request) => void pending.add(request))
  page.on("requestfinished", (request) => void pending.delete(request))
  page.on("requestfailed", (request) => {
    pending.delete(request)
    failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText ?? "failed"}`)
  })
  const unfinished = () => [...pending].map((request) => `${request.method()} ${request.url()}`)
  return { context, page, errors, violations, failedRequests, unfinished }
}
