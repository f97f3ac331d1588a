import { Schema } from "effect"

/*
 * Why a web RPC was refused. The server's application services answer with the JSON API's
 * statuses and `detail` texts (design.md section 3); over RPC each status is its own tagged
 * error, so the UI can `catchTag` on it, and the `detail` is the readable message it shows.
 */

const detail = { detail: Schema.String }

/** 401: no session cookie, an expired or tampered one, or one ended by a password change. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", detail) {
  readonly status = 401
  override get message() {
    return this.detail
  }
}

/** 400: bad input or a business rule (key format, key limit, wrong current password, date range...). */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", detail) {
  readonly status = 400
  override get message() {
    return this.detail
  }
}

/** 403: another user's key or token. */
export class AccessDenied extends Schema.TaggedError<AccessDenied>()("AccessDenied", detail) {
  readonly status = 403
  override get message() {
    return this.detail
  }
}

/** 404: no such key, token or user (any more). */
export class ResourceNotFound extends Schema.TaggedError<ResourceNotFound>()("ResourceNotFound", detail) {
  readonly status = 404
  override get message() {
    return this.detail
  }
}

/** 409: the change kept losing races with concurrent ones; trying again usually works. */
export class ConcurrentChange extends Schema.TaggedError<ConcurrentChange>()("ConcurrentChange", detail) {
  readonly status = 409
  override get message() {
    return this.detail
  }
}

/** 422: input that breaks the rules of its fields (e.g. the password rules); `problems` lists each one. */
export class ValidationFailed extends Schema.TaggedError<ValidationFailed>()("ValidationFailed", {
  ...detail,
  problems: Schema.Array(Schema.String)
}) {
  readonly status = 422
  override get message() {
    return this.detail
  }
}
