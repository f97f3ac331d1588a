/**
 * A writer process for the crash test: registers users and adds keys as fast as it can,
 * printing "ack <position>" after each append returns. The test kills it with SIGKILL.
 */
import { ApiKeyCommands, ApiKeyId, UserCommands, UserId } from "@orw/domain"
import * as Core from "@orw/server/Core"
import { Dispatcher } from "@orw/server/Dispatcher"
import { DateTime, Effect, Redacted } from "effect"

const file = process.argv[2]
if (file === undefined) throw new Error("usage: writer.ts <db file>")
const metadata = { actor: null, source: "cli" as const, correlationId: "crash", causationId: null, requestId: null }

const program = Effect.gen(function* () {
  const dispatcher = yield* Dispatcher
  for (let i = 0; ; i++) {
    const at = yield* DateTime.now
    const userId = UserId.make(`crash-${process.pid}-${i}`)
    const registered = yield* dispatcher.dispatch(
      new UserCommands.RegisterUser({ userId, email: `crash-${process.pid}-${i}@example.com`, passwordHash: "h", at }),
      { metadata }
    )
    const added = yield* dispatcher.dispatch(
      new ApiKeyCommands.AddKey({
        keyId: ApiKeyId.make(`key-${process.pid}-${i}`),
        userId,
        name: "crash",
        key: Redacted.make(`sk-or-v1-${"a".repeat(64)}`),
        label: "sk-or-v1-aaa...aaa",
        keyHash: "h",
        ciphertext: "c",
        maxKeysPerUser: 10,
        at
      }),
      { metadata }
    )
    process.stdout.write(`ack ${registered.at(-1)?.position} ${added.at(-1)?.position}\n`)
  }
})

Effect.runPromise(Effect.provide(program, Core.layerFile(file)))
