/**
 * PostgreSQL: the pool under @effect/sql-pg's client, with connections that send a transaction's BEGIN with
 * its first statement, in one write, instead of waiting a round trip for BEGIN's answer first.
 *
 * @effect/sql runs `BEGIN`, waits for its answer, then runs the transaction's body. BEGIN's answer says
 * nothing (it fails only when the connection does, and then so does whatever follows it on that connection).
 * So a connection here answers BEGIN at once and holds it back; the next statement on that connection goes
 * out behind it in the same write, in pg's pipeline mode (a statement is sent without waiting for the answer
 * of the one before). On the wire the order is the same, BEGIN first, so the transaction is the same; one
 * round trip fewer each. A transaction that sends nothing (its COMMIT or ROLLBACK comes straight after BEGIN)
 * sends nothing at all.
 *
 * Everything else is pg's own Pool and Client. Pipeline mode refuses what keeps a portal open across round
 * trips (cursors, streamed results): nothing here uses them.
 */
import { SqlError } from "@effect/sql/SqlError"
import { Duration, Effect, Redacted } from "effect"
import * as Pg from "pg"
import { socketOf } from "./PgPipeline.js"

/** What pg answers for a statement that returns no rows, as BEGIN does. */
const emptyResult = (command: string) =>
  ({ command, rowCount: null, oid: 0, fields: [], rows: [] }) as unknown as Pg.QueryResult

/** A statement whose text starts so is prepared once per connection under a name (the store's appends). */
export const NAMED = "/* orw:named */ "

/** Distinct texts named on a connection at most; the others go unnamed. */
const MAX_NAMED = 64

type Callback = (error: Error | null, result: Pg.QueryResult) => void

/**
 * A pg Client in pipeline mode whose BEGIN waits for the transaction's next statement (see above), and which
 * prepares the statements marked {@link NAMED} once under a name. Only the exact texts @effect/sql sends for a
 * transaction ("BEGIN", "COMMIT", "ROLLBACK", without values) are held back or answered here.
 */
export class DeferredBeginClient extends Pg.Client {
  /** A BEGIN answered and not sent yet. */
  private begun = false
  private readonly names = new Map<string, string>()

  private nameOf(text: string) {
    const known = this.names.get(text)
    if (known !== undefined || this.names.size >= MAX_NAMED) return known
    const name = `orw_s${this.names.size}`
    this.names.set(text, name)
    return name
  }

  // pg's query has a dozen overloads; this one takes them all and hands them on as they came.
  override query(...input: Array<unknown>): never {
    return this.send(input) as never
  }

  private send(input: Array<unknown>): unknown {
    let args = input
    const pass = () => Reflect.apply(super.query, this, args) as unknown
    const [text, values] = args
    if (typeof text === "string" && (values === undefined || typeof values === "function" || isEmpty(values))) {
      const callback = args.find((arg) => typeof arg === "function") as Callback | undefined
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
    if (typeof text === "string" && text.startsWith(NAMED) && Array.isArray(values)) {
      const name = this.nameOf(text)
      if (name !== undefined) args = [{ name, text, values }, ...args.slice(2)]
    }
    if (!this.begun) return pass()
    this.begun = false
    let refused: Error | undefined
    // Behind BEGIN, in the same write. BEGIN fails only with its connection, which fails this statement too;
    // should it fail alone, this statement ran outside the transaction, and must not pass for having run in it.
    const guard = (error: Error | null) => (error === null && refused !== undefined ? refused : error)
    const at = args.findIndex((arg) => typeof arg === "function")
    if (at >= 0) {
      const callback = args[at] as Callback
      args[at] = (error: Error | null, result: Pg.QueryResult) => callback(guard(error), result)
    }
    const stream = socketOf(this)
    stream?.cork()
    try {
      super.query("BEGIN", (error: Error | null) => {
        if (error !== null) refused = error
      })
      const sent = pass()
      return at >= 0
        ? sent
        : Promise.resolve(sent).then((result) => {
            const error = guard(null)
            if (error !== null) throw error
            return result
          })
    } finally {
      stream?.uncork()
    }
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
        Client: DeferredBeginClient
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
