import { Layer } from "effect"
import { KeyVault } from "./Crypto/KeyVault.js"
import { OpenRouterClient } from "./OpenRouter/Client.js"
import { KeySync } from "./OpenRouter/KeySync.js"

/**
 * The sync with OpenRouter over the core (see `Core.layer`): the client at AppConfig's OPENROUTER_API_URL,
 * the key vault and KeySync. AppConfig and SyncSettings come from the composition root; a test points the
 * sync at a simulator with `AppConfig.layerTest({ openRouterApiUrl })`. The server adds the background
 * fibers, `SyncSupervisor.Default`, on top; `orw sync` runs it alone.
 */
export const layer = KeySync.Default.pipe(
  Layer.provideMerge(Layer.mergeAll(OpenRouterClient.Default, KeyVault.Default))
)
