/**
 * Copies a secret shown once (an API token, a webhook secret) to the clipboard. Without clipboard access
 * (e.g. plain http) it selects the element that shows it, so a key press copies it. True when copied.
 */
export const copyShownSecret = async (text: string, shown: Element | null): Promise<boolean> => {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const selection = window.getSelection()
    if (shown === null || selection === null) return false
    const range = document.createRange()
    range.selectNodeContents(shown)
    selection.removeAllRanges()
    selection.addRange(range)
    return false
  }
}
