import { createContext } from "@lit/context"
import type { UserResponse } from "@orw/domain/Rpc"

/** The signed-in user (`null` when signed out), provided by `<orw-app>`. */
export const sessionContext = createContext<UserResponse | null>(Symbol("orw-session"))
