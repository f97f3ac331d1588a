import { createContext } from "@lit/context"
import type { AppRuntime } from "../runtime.js"

/** The page's Effect runtime, provided by `<orw-app>` and consumed by every element that talks to the server. */
export const runtimeContext = createContext<AppRuntime>(Symbol("orw-runtime"))
