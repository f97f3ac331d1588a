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
