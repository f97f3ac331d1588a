import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { LimitReset } from "../ApiKey/Commands.js"
import { KeyHealth } from "../ApiKey/Health.js"
import {
  AlreadyExists,
  ConcurrencyConflict,
  DuplicateKey,
  IdempotencyKeyReused,
  InvalidKeyFormat,
  InvalidLimit,
  InvalidName,
  InvalidUsage,
  KeyForbidden,
  KeyInactive,
  KeyLimitReached,
  KeyNotFound,
  ManagementKeyRequired,
  UpstreamRefused,
  UserNotFound
} from "../Errors.js"
import { ApiKeyId } from "../Ids.js"
import { json } from "./Errors.js"
import { SessionAuth } from "./Security.js"

/** USD, rounded to 6 decimals (kept as integer micro-dollars underneath); null until the first sync. */
const Usd = Schema.NullOr(Schema.Number)

/** `inactive` when switched off, else `invalid` (upstream said 401), else `failing` (sync gave up), else `active`. */
export const KeyStatus = KeyHealth
export type KeyStatus = KeyHealth

const UPSTREAM = (field: string) =>
  `OpenRouter's own \`${field}\` counter from GET /key at the last sync (USD), for reference; the recorded ` +
  "figures (spend_today, spend_total) are the ones every screen totals."

/**
 * A difference the daily reconciliation found between the recorded figures and OpenRouter's (USD): `scope`
 * `day` = the cost of (`date`, `model`), re-recorded from OpenRouter since; `all-time` = the recorded total
 * against OpenRouter's all-time `usage` (`date`, `model` null).
 */
export class Discrepancy extends Schema.Class<Discrepancy>("Discrepancy")({
  key_id: ApiKeyId,
  found_at: Schema.String,
  scope: Schema.Literal("day", "all-time"),
  date: Schema.NullOr(Schema.String),
  model: Schema.NullOr(Schema.String),
  recorded: Schema.Number,
  upstream: Schema.Number
}) {}

/** A stored OpenRouter key as clients see it: only the masked `label`, never the key. */
export class KeyRow extends Schema.Class<KeyRow>("KeyRow")({
  id: ApiKeyId,
  name: Schema.String,
  label: Schema.String,
  is_active: Schema.Boolean,
  status: KeyStatus,
  is_management_key: Schema.NullOr(Schema.Boolean),
  created_at: Schema.String,
  last_used_at: Schema.NullOr(Schema.String),
  last_synced_at: Schema.NullOr(Schema.String),
  last_attempt_at: Schema.NullOr(Schema.String).annotations({
    description:
      "When a sync of the key last ran, whatever its outcome: with `last_error`, when the failed attempt was; " +
      "null (with `last_synced_at` null) for a key never synced."
  }),
  last_error: Schema.NullOr(Schema.String),
  limit: Usd,
  limit_remaining: Usd,
  limit_reset: Schema.NullOr(Schema.String),
  usage_daily: Usd.annotations({ description: UPSTREAM("usage_daily") }),
  usage_weekly: Usd.annotations({ description: UPSTREAM("usage_weekly") }),
  usage_monthly: Usd.annotations({ description: UPSTREAM("usage_monthly") }),
  usage_total: Usd.annotations({ description: UPSTREAM("usage") }),
  spend_today: Schema.Number.annotations({
    description:
      "Recorded spend of the current UTC day (USD): the figure the dashboard, /api/v1/stats and /api/v1/usage " +
      "show for today. An estimate while the day runs (all-time growth, or hourly analytics with a management key)."
  }),
  requests_today: Schema.Int.annotations({
    description: "Recorded requests of the current UTC day: 0 until OpenRouter breaks today down (hourly analytics)."
  }),
  spend_total: Schema.Number.annotations({
    description: "Recorded spend of all time (USD): the sum of the key's recorded days, as every other screen shows it."
  }),
  last_discrepancy: Schema.NullOr(Discrepancy).annotations({
    description:
      "The latest difference over $0.000001 the daily reconciliation found between the recorded figures and " +
      "OpenRouter's (a day's cost per model, or the all-time total), null when none was ever found."
  })
}) {}

export class KeyList extends Schema.Class<KeyList>("KeyList")({
  items: Schema.Array(KeyRow),
  total: Schema.Int
}) {}

export class AddKeyRequest extends Schema.Class<AddKeyRequest>("AddKeyRequest")({
  name: Schema.String,
  /** `sk-or-v1-` + 64 lowercase hex; redacted as soon as it is decoded. */
  key: Schema.Redacted(Schema.String)
}) {}

export class UpdateKeyRequest extends Schema.Class<UpdateKeyRequest>("UpdateKeyRequest")({
  name: Schema.optional(Schema.String),
  is_active: Schema.optional(Schema.Boolean)
}) {}

/** `PUT /api/keys/{id}/limit`: OpenRouter's `limit` (USD, null = none) and `limit_reset` (null = never). */
export class SetLimitRequest extends Schema.Class<SetLimitRequest>("SetLimitRequest")({
  limit: Schema.NullOr(Schema.Number.pipe(Schema.nonNegative(), Schema.finite())),
  limit_reset: LimitReset
}) {}

/** A summary of one event a sync recorded: its type and the figures that changed. */
export class RecordedEvent extends Schema.Class<RecordedEvent>("RecordedEvent")({
  type: Schema.String,
  date: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  requests: Schema.optional(Schema.Int),
  cost: Schema.optional(Schema.Number),
  usage_total: Schema.optional(Schema.Number),
  limit_remaining: Schema.optional(Schema.NullOr(Schema.Number)),
  error: Schema.optional(Schema.String)
}) {}

/** What `POST /api/keys/{id}/sync` did: the key's row afterwards and what was recorded. */
export class SyncResponse extends Schema.Class<SyncResponse>("SyncResponse")({
  key: KeyRow,
  outcome: Schema.Literal("ok", "invalid", "failed"),
  error: Schema.NullOr(Schema.String),
  recorded: Schema.Array(RecordedEvent)
}) {}

export const KeyPath = Schema.Struct({ id: ApiKeyId })

/** An optional `Idempotency-Key`: a repeat with the same key (per user) creates nothing twice. */
export const IdempotencyHeaders = Schema.Struct({
  "idempotency-key": Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)))
})

/** The user's stored OpenRouter keys. */
export class KeysApi extends HttpApiGroup.make("keys")
  .add(HttpApiEndpoint.get("list", "/api/keys").addSuccess(KeyList).annotate(OpenApi.Summary, "List stored keys"))
  .add(
    HttpApiEndpoint.post("add", "/api/keys")
      .setPayload(AddKeyRequest)
      .setHeaders(IdempotencyHeaders)
      .addSuccess(KeyRow, { status: 201 })
      .addError(json(InvalidName))
      .addError(json(InvalidKeyFormat))
      .addError(json(KeyLimitReached))
      .addError(json(DuplicateKey))
      .addError(json(UserNotFound))
      .addError(json(IdempotencyKeyReused))
      .addError(json(AlreadyExists))
      .addError(json(ConcurrencyConflict))
      .annotate(
        OpenApi.Summary,
        "Store a key (encrypted at rest); 400 Invalid API key format, 400 when the user already stores the same key"
      )
  )
  .add(
    HttpApiEndpoint.put("update", "/api/keys/:id")
      .setPath(KeyPath)
      .setPayload(UpdateKeyRequest)
      .addSuccess(KeyRow)
      .addError(json(InvalidName))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Rename or (de)activate a key")
  )
  .add(
    HttpApiEndpoint.del("remove", "/api/keys/:id")
      .setPath(KeyPath)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Delete a key: its data key is destroyed (crypto-shredding)")
  )
  .add(
    HttpApiEndpoint.put("setLimit", "/api/keys/:id/limit")
      .setPath(KeyPath)
      .setPayload(SetLimitRequest)
      .addSuccess(KeyRow)
      .addError(json(ManagementKeyRequired))
      .addError(json(InvalidLimit))
      .addError(json(InvalidUsage))
      .addError(json(UpstreamRefused))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Set the key's OpenRouter limit and reset period (written back upstream)")
      .annotate(
        OpenApi.Description,
        "Through the user's management key (400 without one): PATCH /keys/{hash} at OpenRouter (502 with detail " +
          "when it refuses), recorded as KeyLimitSet, then the key is synced so its GET /key snapshot confirms it."
      )
  )
  .add(
    HttpApiEndpoint.post("sync", "/api/keys/:id/sync")
      .setPath(KeyPath)
      .addSuccess(SyncResponse)
      .addError(json(InvalidUsage))
      .addError(json(KeyInactive))
      .addError(json(KeyForbidden))
      .addError(json(KeyNotFound))
      .addError(json(ConcurrencyConflict))
      .annotate(OpenApi.Summary, "Sync the key with OpenRouter now")
  )
  .middleware(SessionAuth) {}
