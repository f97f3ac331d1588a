/**
 * PostgreSQL: statements sent together on one connection of our own in pipeline mode (pg's `pipeline`), so
 * that a batch of statements that do not read each other's answers costs one network round trip instead of
 * one each. Each statement still has its own Sync: a failing one leaves the others' answers apart (inside a
 * transaction block, the ones after it fail with "current transaction is aborted", as they would one by one).
 *
 * The group commit's fast path on PostgreSQL runs its batches here (GroupCommit.ts): one writer per process,
 * which sends up to two batches one behind the other; nothing else uses the connection. Statement texts
 * repeat (a command's append, its projections' writes): each is prepared once per connection under a name,
 * up to a bound.
 */
import { SqlError } from "@effect/sql/SqlError"
import { Effect, Redacted } from "effect"
import * as Pg from "pg"

export interface PgStatement {
  readonly text: string
  readonly params: ReadonlyArray<unknown>
}

/** A statement's answer: its rows, or the error PostgreSQL (or the connection) gave. */
export type PgAnswer =
  | { readonly ok: true; readonly rows: ReadonlyArray<Record<string, unknown>> }
  | { readonly ok: false; readonly error: Error }

/** Opening the connection, at most. */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * A statement's answer, at most: far beyond any batch (milliseconds) and any wait for the projection lock
 * (a rebuild's swap holds it for seconds).
 */
const ANSWER_TIMEOUT_MS = 120_000

/** Distinct statement texts prepared under a name on a connection at most; the others go unnamed. */
const MAX_NAMED = 256

/**
 * The names of one connection's prepared statements: `<prefix><n>` for each distinct text, first come first
 * served, up to `max`; undefined after that (the text goes unnamed).
 */
export const statementNames = (prefix: string, max: number) => {
  const names = new Map<string, string>()
  return (text: string): string | undefined => {
    const known = names.get(text)
    if (known !== undefined || names.size >= max) return known
    const name = `${prefix}${names.size}`
    names.set(text, name)
    return name
  }
}

/** PostgreSQL's "current transaction is aborted, commands ignored until end of transaction block". */
export const IN_FAILED_TRANSACTION = "25P02"

/**
 * "prepared statement does not exist": a statement whose text another one sent just before it was preparing
 * (pg then sends only the Bind), when that Parse was refused in an aborted transaction. It did not run.
 */
export const NOT_PREPARED = "26000"

export const codeOf = (error: Error): string | undefined => {
  const code: unknown = Reflect.get(error, "code")
  return typeof code === "string" ? code : undefined
}

/** The socket under pg's connection (pg corks it around each statement's messages; so can we, around several). */
export const socketOf = (client: Pg.Client) => {
  const stream: unknown = Reflect.get(Reflect.get(client, "connection") ?? {}, "stream")
  return typeof stream === "object" && stream !== null && "cork" in stream && "uncork" in stream
    ? (stream as { readonly cork: () => void; readonly uncork: () => void })
    : undefined
}

export interface PgPipelineOptions {
  readonly url: Redacted.Redacted<string>
  readonly applicationName: string
  readonly types: Pg.CustomTypesConfig
}

/**
 * A pipelined connection, opened at the first batch and again after it broke. `run` sends every statement
 * at once and answers once all are answered; it fails (SqlError) only when the connection itself failed, and
 * the next call opens a new one.
 */
export const makePgPipeline = (options: PgPipelineOptions) => {
  let client: Pg.Client | undefined
  let nameOf = statementNames("orw_p", MAX_NAMED)

  const drop = (broken: Pg.Client) => {
    if (client === broken) client = undefined
    broken.end().catch(() => undefined)
  }

  // Two batches may ask at once (the group commit sends one behind the other): they share one opening.
  let opening: Promise<Pg.Client> | undefined
  const open = Effect.tryPromise({
    try: () => {
      opening ??= connect().finally(() => {
        opening = undefined
      })
      return opening
    },
    catch: (cause) => new SqlError({ cause, message: "Failed to open the pipelined connection" })
  })
  const connect = async () => {
    const fresh = new Pg.Client({
      connectionString: Redacted.value(options.url),
      application_name: options.applicationName,
      types: options.types,
      pipeline: true,
      // A server that stops answering (a half-open socket, a lost machine) fails the batches on their way
      // instead of holding them: the connection is dropped and the next batch opens another.
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: ANSWER_TIMEOUT_MS
    })
    // A connection that breaks between batches is dropped; the next batch opens another.
    fresh.on("error", () => drop(fresh))
    await fresh.connect()
    nameOf = statementNames("orw_p", MAX_NAMED)
    client = fresh
    return fresh
  }

  const send = (connection: Pg.Client, statements: ReadonlyArray<PgStatement>) =>
    Effect.async<ReadonlyArray<PgAnswer>, SqlError>((resume) => {
      const answers: Array<PgAnswer | undefined> = statements.map(() => undefined)
      let pending = statements.length
      let broken: Error | undefined
      // Every statement's messages in one write: pg corks each statement's own; this corks them all.
      const stream = socketOf(connection)
      stream?.cork()
      statements.forEach((statement, i) => {
        const name = statement.params.length === 0 ? undefined : nameOf(statement.text)
        connection
          .query({ text: statement.text, values: statement.params as Array<unknown>, ...(name ? { name } : {}) })
          .then(
            (result) => {
              answers[i] = { ok: true, rows: result.rows }
            },
            (error: Error) => {
              answers[i] = { ok: false, error }
              // An error without a SQLSTATE is the connection's (closed, reset): nothing more can be trusted of it.
              if (codeOf(error) === undefined) broken ??= error
            }
          )
          .finally(() => {
            if (--pending > 0) return
            if (broken !== undefined) {
              drop(connection)
              resume(Effect.fail(new SqlError({ cause: broken, message: "The pipelined connection failed" })))
            } else resume(Effect.succeed(answers as ReadonlyArray<PgAnswer>))
          })
      })
      stream?.uncork()
    })

  /** Every statement sent at once, in order; their answers in the same order. */
  const run = (statements: ReadonlyArray<PgStatement>): Effect.Effect<ReadonlyArray<PgAnswer>, SqlError> =>
    statements.length === 0
      ? Effect.succeed([])
      : Effect.flatMap(client !== undefined ? Effect.succeed(client) : open, (connection) =>
          send(connection, statements)
        )

  const close = Effect.promise(async () => {
    const open = client
    client = undefined
    await open?.end().catch(() => undefined)
  })

  return { run, close } as const
}

export type PgPipeline = ReturnType<typeof makePgPipeline>
