import { HttpApi } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Option, Schema } from "effect"
import { InternalError, OrwApi, TooManyRequests, Unauthenticated, Unprocessable } from "../src/Api.js"
import * as Errors from "../src/Errors.js"
import { WebRpcs } from "../src/Rpc.js"

/** Every error class of the contract, with one instance each. */
const samples = [
  new Errors.EmailAlreadyRegistered(),
  new Errors.InvalidEmail(),
  new Errors.UserNotFound(),
  new Errors.InvalidCredentials(),
  new Errors.CurrentPasswordIncorrect(),
  new Errors.PasswordIncorrect(),
  new Errors.InvalidKeyFormat(),
  new Errors.KeyLimitReached({ max: 3 }),
  new Errors.InvalidName(),
  new Errors.KeyNotFound(),
  new Errors.KeyForbidden(),
  new Errors.TokenNotFound(),
  new Errors.TokenForbidden(),
  new Errors.IdempotencyKeyReused(),
  new Errors.TokenAlreadyIssued(),
  new Errors.InvalidUsage({ reason: "cost must not be negative" }),
  new Errors.DateRangeReversed(),
  new Errors.InvalidDateRange({ maxDays: 366 }),
  new Errors.AlreadyExists(),
  new Errors.ConcurrencyConflict({ streamId: "key:k1", expectedVersion: 2 }),
  new Unauthenticated({ detail: "Not authenticated" }),
  new Unprocessable({ detail: "password: too short", errors: [{ path: "password", message: "too short" }] }),
  new TooManyRequests({ detail: "Rate limit exceeded" }),
  new InternalError({ detail: "Internal server error" })
]

/** For each endpoint of the JSON API, its declared errors per status, as HttpApi itself reads them. */
const endpoints: Array<{ readonly name: string; readonly errors: ReadonlyMap<number, Schema.Schema.AnyNoContext> }> = []
HttpApi.reflect(OrwApi, {
  onGroup: () => {},
  onEndpoint: ({ endpoint, errors, group }) => {
    const byStatus = new Map<number, Schema.Schema.AnyNoContext>()
    for (const [status, { ast }] of errors) if (Option.isSome(ast)) byStatus.set(status, Schema.make(ast.value))
    endpoints.push({ name: `${group.identifier}.${endpoint.name}`, errors: byStatus })
  }
})

/** The endpoints that declare `error`, and the schema of the status they declare it under. */
const declaring = (error: object) =>
  endpoints.flatMap(({ name, errors }) =>
    [...errors].filter(([, schema]) => Schema.is(schema)(error)).map(([status, schema]) => ({ name, status, schema }))
  )

const rpcErrors = [...WebRpcs.requests.values()].map((rpc) => Schema.make(rpc.errorSchema.ast))

describe("the contract's errors", () => {
  it.each(samples.map((error) => [error._tag, error] as const))(
    "%s is declared on an endpoint or an RPC, at its own status, and written as {detail} without a tag",
    (_, error) => {
      const http = declaring(error)
      const rpc = rpcErrors.filter((schema) => Schema.is(schema)(error))
      expect(http.length + rpc.length).toBeGreaterThan(0)
      for (const { name, status, schema } of http) {
        expect([name, status]).toEqual([name, Errors.statusOf(error)])
        const body = Schema.encodeSync(schema)(error)
        expect(body).toEqual(
          error instanceof Unprocessable ? { detail: error.detail, errors: error.errors } : { detail: error.detail }
        )
      }
    }
  )

  it("tells the rejections that share a status apart when a client reads a body (by their text)", () => {
    const addKey = endpoints.find((e) => e.name === "keys.add")?.errors.get(400)
    expect(addKey).toBeDefined()
    if (addKey === undefined) return
    const read = Schema.decodeUnknownSync(addKey)
    expect(read({ detail: "Invalid API key format" })).toBeInstanceOf(Errors.InvalidKeyFormat)
    expect(read({ detail: "Name must be 1 to 100 characters" })).toBeInstanceOf(Errors.InvalidName)
    expect(() => read({ detail: "Email already registered" })).toThrow()
  })

  it("sends a refusal over RPC with its tag and its fields", () => {
    const addKey = WebRpcs.requests.get("addKey")
    expect(addKey).toBeDefined()
    if (addKey === undefined) return
    const schema = Schema.make<unknown, unknown, never>(addKey.errorSchema.ast)
    const error = new Errors.KeyLimitReached({ max: 3 })
    const wire = Schema.encodeSync(schema)(error)
    expect(wire).toEqual({ _tag: "KeyLimitReached", max: 3, detail: "Maximum number of API keys reached (3)" })
    expect(Schema.decodeUnknownSync(schema)(wire)).toBeInstanceOf(Errors.KeyLimitReached)
  })
})
