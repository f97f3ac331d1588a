/**
 * Moves the single-page app to `path`: the history entry is written and a `popstate` tells the
 * router in `<orw-app>`, exactly as the browser's back button would.
 */
export const navigate = (path: string, options: { readonly replace?: boolean } = {}): void => {
  if (`${window.location.pathname}${window.location.search}` === path) return
  if (options.replace === true) window.history.replaceState({}, "", path)
  else window.history.pushState({}, "", path)
  window.dispatchEvent(new PopStateEvent("popstate"))
}

/** Fired by the sign-in form once the session cookie is set. */
export const SIGNED_IN_EVENT = "orw-signed-in"

/** Fired by the profile page once the account is deleted (and signed out). */
export const ACCOUNT_DELETED_EVENT = "orw-account-deleted"

/** Why the app came back to the sign-in page, as `/login?<notice>=1`; the page says it. */
export const LOGIN_NOTICES = {
  registered: "Your account is ready: sign in with it.",
  "signed-out": "You are signed out.",
  deleted: "Your account and all its data have been deleted.",
  expired: "Your session has ended: sign in again."
} as const
export type LoginNotice = keyof typeof LOGIN_NOTICES
