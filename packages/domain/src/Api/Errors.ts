import { HttpApiSchema } from "@effect/platform"
import { Option, Schema } from "effect"

/*
 * The contract's error bodies. Every error is `{"detail": "..."}` on the wire, without a `_tag`: the tag
 * is a field of the instances only (decoded from nothing, encoded to nothing), so `Effect.catchTag` works,
 * errors with the same fields are still told apart when encoded, and clients tell them apart by status.
 */

/** A `_tag` present on instances and absent from the JSON. */
const hiddenTag = <Tag extends string>(tag: Tag) =>
  Schema.optionalToRequired(Schema.Never, Schema.Literal(tag), { decode: () => tag, encode: () => Option.none() }).pipe(
    Schema.withConstructorDefault(() => tag)
  )

const detail = <Tag extends string>(tag: Tag) => ({ _tag: hiddenTag(tag), detail: Schema.String })

/** 400: bad input or a business rule (duplicate email, key format, key limit...). */
export class BadRequest extends Schema.Class<BadRequest>("BadRequest")(
  detail("BadRequest"),
  HttpApiSchema.annotations({ status: 400, description: "Bad input or a business rule" })
) {}

/** 401: missing, invalid or expired credentials. */
export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")(
  detail("Unauthorized"),
  HttpApiSchema.annotations({ status: 401, description: "Missing or invalid credentials" })
) {}

/** 403: another user's resource. */
export class Forbidden extends Schema.Class<Forbidden>("Forbidden")(
  detail("Forbidden"),
  HttpApiSchema.annotations({ status: 403, description: "Another user's resource" })
) {}

/** 404: no such resource. */
export class NotFound extends Schema.Class<NotFound>("NotFound")(
  detail("NotFound"),
  HttpApiSchema.annotations({ status: 404, description: "Not found" })
) {}

/** 409: a concurrency conflict that outlived the retries, or a replayed Idempotency-Key. */
export class Conflict extends Schema.Class<Conflict>("Conflict")(
  detail("Conflict"),
  HttpApiSchema.annotations({ status: 409, description: "Concurrency conflict" })
) {}

/** One field-level problem of a 422. `path` is dotted (`password`, `items.0.name`); empty for the whole input. */
export const FieldError = Schema.Struct({ path: Schema.String, message: Schema.String })
export type FieldError = typeof FieldError.Type

/** 422: the body, query or path does not match the schema. */
export class Unprocessable extends Schema.Class<Unprocessable>("Unprocessable")(
  { ...detail("Unprocessable"), errors: Schema.optional(Schema.Array(FieldError)) },
  HttpApiSchema.annotations({ status: 422, description: "The request does not match the schema" })
) {}

/** 429: rate limited; the response carries `Retry-After` and `X-RateLimit-*`. */
export class TooManyRequests extends Schema.Class<TooManyRequests>("TooManyRequests")(
  detail("TooManyRequests"),
  HttpApiSchema.annotations({ status: 429, description: "Rate limited (see Retry-After)" })
) {}

/** 500: an unexpected failure; it is logged with the request id (`X-Request-Id`). */
export class InternalError extends Schema.Class<InternalError>("InternalError")(
  detail("InternalError"),
  HttpApiSchema.annotations({ status: 500, description: "Unexpected failure" })
) {}

/** Errors a session route may answer with, besides 401. */
export type ResourceError = BadRequest | Forbidden | NotFound | Conflict | Unprocessable
