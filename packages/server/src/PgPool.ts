/**
 * PostgreSQL: the pool under @effect/sql-pg's client, with connections that send a transaction's BEGIN with
 * its first statement, in one write, instead of waiting a round trip for BEGIN's answer first, and a
 * transaction's projection writes together instead of one round trip each.
 *
 * @effect/sql runs `BEGIN`, waits for its answer, then runs the transaction's body. BEGIN's answer says
 * nothing (it fails only when the connection does, and then so does whatever follows it on that connection).
 * So a connection here answers BEGIN at once and holds it back; the next statement on that connection goes
 * out behind it in the same write, in pg's pipeline mode (a statement is sent without waiting for the answer
 * of the one before). On the wire the order is the same, BEGIN first, so the transaction is the same; one
 * round trip fewer each. A transaction that sends nothing (its COMMIT or ROLLBACK comes straight after BEGIN)
 * sends nothing at all.
 *
 * The same holds for writes whose answers nobody reads: the projections' writes of a transaction (Projector.ts),
 * one statement per event and table, marked {@link DEFERRED}. Each is answered at once and sent without
 * waiting, all of a turn in one write; the statement after them reports their first failure. A year of a
 * key's history (a thousand events, two writes each) is then a few round trips instead of two thousand.
 * Statements marked {@link NAMED} or DEFERRED are prepared once per connection, under a name.
 *
 * Everything else is pg's own Pool and Client. Pipeline mode refuses what keeps a portal open across round
 * trips (cursors, streamed results): nothing here uses them.
 */
import { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Redacted } from "effect"
import * as Pg from "pg"
import { socketOf, statementNames } from "./PgPipeline.js"

/** What pg answers for a statement that returns no rows, as BEGIN does. */
const emptyResult = (command: string) =>
  ({ command, rowCount: null, oid: 0, fields: [], rows: [] }) as unknown as Pg.QueryResult

/** A statement whose text starts so is prepared once per connection under a name (the store's appends). */
export const NAMED = "/* orw:named */ "

/**
 * A statement whose text starts so is answered at once (an empty answer), sent without waiting, and prepared
 * as {@link NAMED} ones are: a write whose answer its caller ignores, in a transaction. Its failure is the
 * failure of the next statement without the mark on the connection, which its caller must send (Projector.ts
 * ends its writes with one), so that it is reported to the same caller, before the transaction ends.
 */
export const DEFERRED = "/* orw:deferred */ "

/** Distinct texts named on a connection at most; the others go unnamed. */
const MAX_NAMED = 128

/**
 * The longest text named: the statements that repeat (a one-event append, a projection write) are far shorter;
 * the long ones (an append of a year of events) run once, and would hold a name, and their text on both sides,
 * for the connection's life.
 */
export const MAX_NAMED_LENGTH = 4_000

type Callback = (error: Error | null, result: Pg.QueryResult) => void

/**
 * A pg Client in pipeline mode whose BEGIN waits for the transaction's next statement, whose {@link DEFERRED}
 * writes are answered at once, and which prepares marked statements once under a name (see above). Only the
 * exact texts @effect/sql sends for a transaction ("BEGIN", "COMMIT", "ROLLBACK", without values) are held
 * back or answered here.
 */
export class PipelinedClient extends Pg.Client {
  /** A BEGIN answered and not sent yet. */
  private begun = false
  /** Statements sent without waiting (a BEGIN, {@link DEFERRED} ones) whose failure no statement reported yet. */
  private unreported: { error: Error | undefined } | undefined
  /** Whether the socket is held corked for the deferred statements of this turn of the event loop. */
  private holding = false
  private readonly nameOf = statementNames("orw_s", MAX_NAMED)

  // pg's query has a dozen overloads; this one takes them all and hands them on as they came.
  override query(...input: Array<unknown>): never {
    return this.send(input) as never
  }

  private send(input: Array<unknown>): unknown {
    let args = input
    const [text, values] = args
    const callback = args.find((arg) => typeof arg === "function") as Callback | undefined
    if (typeof text === "string" && (values === undefined || typeof values === "function" || isEmpty(values))) {
      if (text === "BEGIN") {
        this.begun = true
        return answer(callback, emptyResult("BEGIN"))
      }
      if ((text === "COMMIT" || text === "ROLLBACK") && this.begun) {
        // The transaction sent nothing: there is nothing to end on the server.
        this.begun = false
        return answer(callback, emptyResult(text))
      }
    }
    const deferred = typeof text === "string" && text.startsWith(DEFERRED) && Array.isArray(values)
    if (
      typeof text === "string" &&
      (deferred || text.startsWith(NAMED)) &&
      text.length <= MAX_NAMED_LENGTH &&
      Array.isArray(values)
    ) {
      const name = this.nameOf(text)
      if (name !== undefined) args = [{ name, text, values }, ...args.slice(2)]
    }
    const stream = socketOf(this)
    if (deferred) {
      // Answered at once; sent in the same write as the others of this turn (and the next plain statement).
      if (stream !== undefined && !this.holding) {
        this.holding = true
        stream.cork()
        setImmediate(() => this.letGo(stream))
      }
      if (this.begun) this.sendUnwaited("BEGIN", [])
      this.sendUnwaited(args[0], args[0] === text ? values : undefined)
      return answer(callback, emptyResult("DEFERRED"))
    }
    // A rollback abandons whatever was sent before it: nothing of it is reported (it did not happen).
    if (typeof text === "string" && text.startsWith("ROLLBACK")) this.unreported = undefined
    if (!this.begun && this.unreported === undefined) return this.pass(args)
    stream?.cork()
    try {
      if (this.begun) this.sendUnwaited("BEGIN", [])
      // This statement reports the first failure of those sent before it without waiting (a BEGIN fails only with
      // its connection, and so does this statement; a deferred write's failure aborted the transaction, so this
      // one's own would only say so): a deferred write's failure is this statement's.
      const group = this.unreported
      this.unreported = undefined
      const guard = (error: Error | null) => group?.error ?? error
      const at = args.findIndex((arg) => typeof arg === "function")
      if (at >= 0) {
        const callback = args[at] as Callback
        args[at] = (error: Error | null, result: Pg.QueryResult) => callback(guard(error), result)
      }
      const sent = this.pass(args)
      return at >= 0
        ? sent
        : Promise.resolve(sent).then(
            (result) => {
              const error = guard(null)
              if (error !== null) throw error
              return result
            },
            (error: Error) => {
              throw guard(error)
            }
          )
    } finally {
      stream?.uncork()
      if (stream !== undefined) this.letGo(stream)
    }
  }

  private pass(args: Array<unknown>): unknown {
    return Reflect.apply(super.query, this, args)
  }

  /** Sends a statement without waiting for its answer; its failure, if any, is the next plain statement's. */
  private sendUnwaited(query: unknown, values: unknown) {
    if (query === "BEGIN") this.begun = false
    this.unreported ??= { error: undefined }
    const group = this.unreported
    this.pass([
      query,
      ...(values === undefined ? [] : [values]),
      (error: Error | null) => {
        if (error !== null) group.error ??= error
      }
    ])
  }

  // Not `release`: the pool gives each client it lends a `release` of its own.
  private letGo(stream: { readonly uncork: () => void }) {
    if (!this.holding) return
    this.holding = false
    stream.uncork()
  }
}

const isEmpty = (values: unknown) => Array.isArray(values) && values.length === 0

/** An answer given without the server, asynchronously as pg's are. */
const answer = (callback: Callback | undefined, result: Pg.QueryResult) => {
  if (callback === undefined) return Promise.resolve(result)
  process.nextTick(callback, null, result)
  return undefined
}

export interface PgPoolOptions {
  readonly url: Redacted.Redacted<string>
  readonly applicationName: string
  readonly types: Pg.CustomTypesConfig
  readonly maxConnections: number
}

/** How long the first connection may take before the server gives up (as @effect/sql-pg's own pool). */
const CONNECT_TIMEOUT = Duration.seconds(5)

/**
 * The pool (scoped: ended with the scope), checked with one statement first, as @effect/sql-pg checks its
 * own: an unreachable server fails here, not at the first command.
 */
export const acquirePgPool = (options: PgPoolOptions) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new Pg.Pool({
        connectionString: Redacted.value(options.url),
        application_name: options.applicationName,
        types: options.types,
        max: options.maxConnections,
        pipeline: true,
        Client: PipelinedClient
      })
      // An idle connection that breaks is dropped by the pool; the next statement opens another.
      pool.on("error", () => undefined)
      return pool
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000))
  ).pipe(
    Effect.tap((pool) =>
      Effect.tryPromise({
        try: () => pool.query("SELECT 1"),
        catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" })
      }).pipe(
        Effect.timeoutFail({
          duration: CONNECT_TIMEOUT,
          onTimeout: () =>
            new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" })
        })
      )
    )
  )
