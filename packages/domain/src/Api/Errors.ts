import { HttpApiSchema } from "@effect/platform"
import { SchemaAST as AST, Effect, Option, ParseResult, Schema } from "effect"

/*
 * The errors of the contract that are not domain rules (credentials, schema, rate limits, defects), one
 * class each for HTTP and RPC alike, and how the JSON API writes any error: `{"detail": "..."}` only
 * (a 422 adds `errors`), with the status its class is annotated with, and without the `_tag` the RPC carries.
 */

/** 401: missing, invalid or expired credentials (a session, a cookie, a public-API token). */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()(
  "Unauthenticated",
  { detail: Schema.String },
  HttpApiSchema.annotations({ status: 401, description: "Missing or invalid credentials" })
) {
  override get message() {
    return this.detail
  }
}

/** One field-level problem of a 422. `path` is dotted (`password`, `items.0.name`); empty for the whole input. */
export const FieldError = Schema.Struct({ path: Schema.String, message: Schema.String })
export type FieldError = typeof FieldError.Type

/** 422: the body, query or path does not match the schema, or a field breaks its rules (the password rules). */
export class Unprocessable extends Schema.TaggedError<Unprocessable>()(
  "Unprocessable",
  { detail: Schema.String, errors: Schema.optional(Schema.Array(FieldError)) },
  HttpApiSchema.annotations({ status: 422, description: "The request does not match the schema" })
) {
  override get message() {
    return this.detail
  }
}

/** 429: rate limited; the response carries `Retry-After` and `X-RateLimit-*`. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()(
  "TooManyRequests",
  { detail: Schema.String },
  HttpApiSchema.annotations({ status: 429, description: "Rate limited (see Retry-After)" })
) {
  override get message() {
    return this.detail
  }
}

/** 500: an unexpected failure; it is logged with the request id (`X-Request-Id`). */
export class InternalError extends Schema.TaggedError<InternalError>()(
  "InternalError",
  { detail: Schema.String },
  HttpApiSchema.annotations({ status: 500, description: "Unexpected failure" })
) {
  override get message() {
    return this.detail
  }
}

/** What {@link json} needs of an error class: a tagged schema whose instances say their `detail`. */
interface DetailedError<Self extends { readonly detail: string }, I> extends Schema.Schema<Self, I> {
  readonly _tag: string
}

/** Writes `error` as `body` (its fields beyond the body's, such as `_tag`, stay off the wire). */
const withBody = <B extends { readonly detail: string }, Self extends B, I>(
  body: Schema.Schema<B>,
  error: DetailedError<Self, I>
) => {
  const decodeClass = ParseResult.decodeUnknown(error)
  const encodeBody = ParseResult.encodeUnknown(body)
  // The instances, without the class's identifier: the OpenAPI document then shows each body inline as
  // `{"detail"}` (the class's JSON schema would be its `_tag`ged form, which only the RPC sends).
  const instance = Schema.declare(Schema.is(Schema.typeSchema(error)))
  return Schema.transformOrFail(body, instance, {
    strict: true,
    decode: (written, options, ast) =>
      // A rejection with a fixed text decodes from its tag alone: it is this one only if the text is its own.
      Effect.matchEffect(decodeClass({ _tag: error._tag }, options), {
        onSuccess: (canonical) =>
          canonical.detail === written.detail
            ? Effect.succeed(canonical)
            : Effect.fail(new ParseResult.Type(ast, written, `Not a ${error._tag}`)),
        // Free text (Unauthenticated...) decodes from the body; a class with data the body lacks does not.
        onFailure: () => decodeClass({ ...written, _tag: error._tag }, options)
      }),
    encode: (instance, options) => encodeBody(instance, options)
  }).annotations({
    ...HttpApiSchema.annotations({ status: HttpApiSchema.getStatusError(error) }),
    ...Option.match(AST.getDescriptionAnnotation(AST.typeAST(error.ast)), {
      onNone: () => ({}),
      onSome: (description) => ({ description })
    })
  })
}

const Detail = Schema.Struct({ detail: Schema.String })

/**
 * An error class as the JSON API writes it: exactly `{"detail"}`, with the status and description its class
 * is annotated with. Put it on endpoints: `.addError(json(KeyNotFound))`; the handler fails with the class.
 * Decoding (a typed client's side) takes a body only when the class would write that detail, so rejections
 * that share a status are told apart by their text; one with data beyond it (KeyLimitReached's `max`) can't be
 * rebuilt from the text and is not decoded.
 */
export const json = <Self extends { readonly detail: string }, I>(error: DetailedError<Self, I>) =>
  withBody(Detail, error)

/** {@link Unprocessable} as the JSON API writes it: `{"detail", "errors"}`. */
export const UnprocessableJson = withBody(
  Schema.Struct({ detail: Schema.String, errors: Schema.optional(Schema.Array(FieldError)) }),
  Unprocessable
)
