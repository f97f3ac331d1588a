/**
 * The operations the PostgreSQL benchmarks time (bench/postgres.ts) and count (bench/pg-roundtrips.ts), one
 * definition for both: an append of one event to a fresh stream in a transaction of its own, and a RecordUsage
 * through the Dispatcher on one of 16 keys.
 */
import { SqlClient } from "@effect/sql"
import { ApiKeyId, type Micros, Streams, UsageCommands, UserEvents, UserId, UtcDate } from "@orw/domain"
import { Dispatcher } from "@orw/server/Dispatcher"
import { EventStore } from "@orw/server/EventStore"
import { DateTime, Effect } from "effect"
import { testMetadata } from "../../packages/server/test/support/Fixtures.js"

/** EventStore.append of one PasswordChanged to stream `user:a<i>` (new), in its own transaction. */
export const appendOne = (i: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.withTransaction(
      Effect.flatMap(EventStore, (store) =>
        store.append(
          [
            {
              streamId: Streams.user(`a${i}`),
              expectedVersion: 0,
              events: [
                new UserEvents.PasswordChanged({
                  userId: UserId.make(`a${i}`),
                  passwordHash: `h${i}`,
                  at: DateTime.unsafeNow()
                })
              ]
            }
          ],
          testMetadata()
        )
      )
    )
  )

/** RecordUsage (increment) on key `k<i % 16>`, one of 300 days and 7 models, through the Dispatcher. */
export const recordOne = (i: number) =>
  Effect.flatMap(Dispatcher, (d) =>
    d.dispatch(
      new UsageCommands.RecordUsage({
        keyId: ApiKeyId.make(`k${i % 16}`),
        date: UtcDate.make(new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86_400_000).toISOString().slice(0, 10)),
        model: `model-${i % 7}`,
        mode: "increment",
        figures: { requests: 1, tokensInput: 100, tokensOutput: 50, cost: 1234 as Micros, byokCost: 0 },
        at: DateTime.unsafeNow()
      }),
      { metadata: testMetadata() }
    )
  )
