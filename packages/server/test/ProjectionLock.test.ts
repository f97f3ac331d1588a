import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { Effect, Option, Tracer } from "effect"
import * as Core from "../src/Core.js"
import { Dispatcher } from "../src/Dispatcher.js"
import { Projector } from "../src/Projector.js"
import { register, testMetadata } from "./support/Fixtures.js"

interface Recorded {
  readonly span: Tracer.Span
  readonly attributes: Map<string, unknown>
}

/** A tracer that keeps every span, in the order they start, with their attributes. */
const recordingTracer = () => {
  const spans: Array<Recorded> = []
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const attributes = new Map<string, unknown>()
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: String(spans.length + 1),
        traceId: "lock-order",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links,
        sampled: true,
        kind,
        end: () => {},
        attribute: (key, value) => {
          attributes.set(key, value)
        },
        event: () => {},
        addLinks: () => {}
      }
      spans.push({ span, attributes })
      return span
    },
    context: (f) => f()
  })
  return { tracer, spans }
}

/** The statements of each SQL transaction, in order. */
const transactions = (spans: ReadonlyArray<Recorded>) => {
  const byTransaction = new Map<Tracer.AnySpan, Array<string>>()
  // The outermost one: a nested withTransaction is a savepoint inside it, covered by its lock.
  const transactionOf = (span: Tracer.AnySpan): Tracer.AnySpan | undefined => {
    let outermost: Tracer.AnySpan | undefined
    for (let s = Option.some(span); Option.isSome(s); ) {
      if (s.value._tag === "Span" && s.value.name === "sql.transaction") outermost = s.value
      s = s.value._tag === "Span" ? s.value.parent : Option.none()
    }
    return outermost
  }
  for (const { span, attributes } of spans) {
    if (span.name !== "sql.execute") continue
    const transaction = transactionOf(span)
    if (transaction === undefined) continue
    byTransaction.set(transaction, [...(byTransaction.get(transaction) ?? []), String(attributes.get("db.query.text"))])
  }
  return [...byTransaction.values()]
}

/** A write to the log or a live read model (a rebuild's `__rebuild` table is private to it). */
const PROTECTED =
  /\b(INSERT INTO|UPDATE|DELETE FROM|DROP TABLE(?: IF EXISTS)?|ALTER TABLE)\s+"?(events|streams|projection_checkpoints|users|api_keys|usage_stats|api_tokens)\b/i

it.live("every transaction that writes the log or a read model takes the projection lock first", () =>
  Effect.gen(function* () {
    const file = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-lock-")), "app.db")
    yield* Effect.flatMap(Dispatcher, (d) =>
      d.dispatch(register("a", "a@example.com"), { metadata: testMetadata() })
    ).pipe(
      // The users projection behind the log, so that the next open catches it up.
      Effect.zipRight(
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          Effect.zipRight(
            sql`DELETE FROM users`,
            sql`UPDATE projection_checkpoints SET position = 0 WHERE name = 'users'`
          )
        )
      ),
      Effect.provide(Core.layerFile(file))
    )
    const { tracer, spans } = recordingTracer()
    // Opening the core catches the projections up; then a command, then a rebuild with its swap.
    yield* Effect.gen(function* () {
      yield* Effect.flatMap(Dispatcher, (d) => d.dispatch(register("b", "b@example.com"), { metadata: testMetadata() }))
      yield* Effect.flatMap(Projector, (p) => p.rebuild("users"))
    }).pipe(Effect.provide(Core.layerFile(file)), Effect.withTracer(tracer))

    const guarded = transactions(spans).filter((statements) => statements.some((s) => PROTECTED.test(s)))
    // The catch-up of users, the command, the rebuild's swap.
    expect(guarded.length).toBe(3)
    for (const statements of guarded) {
      expect(statements[0]).toMatch(/projection_checkpoints/)
      expect(statements[0]).not.toMatch(/\bposition\b/)
    }
  })
)
