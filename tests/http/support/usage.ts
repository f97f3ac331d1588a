import { ApiKeyId, type Micros, UsageCommands, UtcDate } from "@orw/domain"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect } from "effect"

/** Records a (key, date, model) row as the sync would (absolute figures, 10 tokens in and 20 out), through the dispatcher. */
export const recordUsage = (keyId: string, date: string, model: string, micros: number, requests = 1) =>
  Effect.flatMap(Dispatcher, (dispatcher) =>
    Effect.flatMap(DateTime.now, (at) =>
      dispatcher.dispatch(
        new UsageCommands.RecordUsage({
          keyId: ApiKeyId.make(keyId),
          date: UtcDate.make(date),
          model,
          mode: "absolute",
          figures: { requests, tokensInput: 10, tokensOutput: 20, cost: micros as Micros, byokCost: 0 as Micros },
          at
        }),
        { metadata: { actor: null, source: "cli", correlationId: "seed", causationId: null, requestId: null } }
      )
    )
  )
