import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import { type UserId, WebhookCommands, WebhookForbidden, WebhookId, WebhookNotFound } from "@orw/domain"
import { CreatedWebhook, DeliveryList, DeliveryRow, TestDelivery, WebhookList, WebhookRow } from "@orw/domain/Api"
import { DateTime, Effect, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { KeyVault } from "../Crypto/KeyVault.js"
import { Dispatcher } from "../Dispatcher.js"
import * as Webhooks from "../Projections/Webhooks.js"
import * as Deliveries from "../SideTables/Deliveries.js"
import { bodyOf } from "../Webhooks/Payload.js"
import { Wake } from "../Webhooks/Wake.js"
import { metadataOf, type Origin } from "./Origin.js"

const iso = (ms: number | null) => (ms === null ? null : DateTime.formatIso(DateTime.unsafeMake(ms)))

/**
 * Webhook endpoints: added with a signing secret sealed by the KeyVault (shown once, never stored or
 * logged in the clear; shredded with the webhook), deleted, tested, and their deliveries listed.
 */
export class WebhooksService extends Effect.Service<WebhooksService>()("orw/App/Webhooks", {
  effect: Effect.gen(function* () {
    const dispatcher = yield* Dispatcher
    const vault = yield* KeyVault
    const config = yield* AppConfig
    const wake = yield* Wake
    const sql = yield* SqlClient.SqlClient
    const onDatabase = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, SqlClient.SqlClient, sql)
    // Loopback and private targets: refused in production (SSRF), unless WEBHOOK_ALLOW_PRIVATE says otherwise.
    const allowPrivate = !config.production || config.webhookAllowPrivate

    const owned = (userId: UserId, webhookId: WebhookId) =>
      Effect.gen(function* () {
        const found = yield* Webhooks.byId(webhookId)
        if (Option.isNone(found)) return yield* new WebhookNotFound()
        if (found.value.userId !== userId) return yield* new WebhookForbidden()
        return found.value
      })

    const create = Effect.fn("Webhooks.create")(function* (
      userId: UserId,
      input: { readonly url: string; readonly format: "generic" | "slack" | "discord" },
      origin: Origin
    ) {
      const webhookId = WebhookId.make(`wh_${NodeCrypto.randomUUID()}`)
      const secret = Redacted.make(`whsec_${NodeCrypto.randomBytes(32).toString("base64url")}`)
      const { ciphertext, vaultRow } = yield* vault.seal(webhookId, userId, secret)
      const at = yield* DateTime.now
      const appended = yield* dispatcher.dispatch(
        new WebhookCommands.AddWebhook({
          webhookId,
          userId,
          url: input.url,
          format: input.format,
          ciphertext,
          allowPrivate,
          at
        }),
        { metadata: metadataOf(origin, userId), inTransaction: vault.storeInTransaction(vaultRow) }
      )
      const added = appended.find((e) => e.event._tag === "WebhookAdded")?.event
      return new CreatedWebhook({
        id: webhookId,
        url: added?._tag === "WebhookAdded" ? added.url : input.url,
        format: input.format,
        secret: Redacted.value(secret),
        created_at: DateTime.formatIso(at)
      })
    })

    const list = Effect.fn("Webhooks.list")(function* (userId: UserId) {
      const hooks = yield* Webhooks.ofUser(userId)
      return new WebhookList({
        items: hooks.map((h) => new WebhookRow({ id: h.id, url: h.url, format: h.format, created_at: h.createdAt }))
      })
    }, onDatabase)

    const remove = Effect.fn("Webhooks.remove")(function* (userId: UserId, webhookId: WebhookId, origin: Origin) {
      yield* dispatcher.dispatch(new WebhookCommands.DeleteWebhook({ webhookId, userId, at: yield* DateTime.now }), {
        metadata: metadataOf(origin, userId)
      })
    })

    /** Queues a signed `test` delivery, sent like any other (retries included); 202 with its id. */
    const test = Effect.fn("Webhooks.test")(function* (userId: UserId, webhookId: WebhookId) {
      const hook = yield* owned(userId, webhookId)
      const now = yield* DateTime.now
      const deliveryId = `dl_${NodeCrypto.randomUUID().replaceAll("-", "")}`
      const body = bodyOf(hook.format, {
        deliveryId,
        type: "test",
        createdAt: DateTime.formatIso(now),
        data: { message: "test delivery: this webhook works" }
      })
      yield* Deliveries.enqueue({
        id: deliveryId,
        webhookId,
        userId,
        alertId: null,
        eventType: "test",
        body,
        now: DateTime.toEpochMillis(now)
      })
      yield* wake.deliveries
      return new TestDelivery({ delivery_id: deliveryId })
    }, onDatabase)

    const deliveries = Effect.fn("Webhooks.deliveries")(function* (userId: UserId, webhookId: WebhookId) {
      yield* owned(userId, webhookId)
      const rows = yield* Deliveries.ofWebhook(webhookId)
      return new DeliveryList({
        items: rows.map(
          (r) =>
            new DeliveryRow({
              id: r.id,
              alert_id: r.alert_id,
              type: r.event_type,
              status: r.status,
              attempts: r.attempts,
              last_status_code: r.last_status_code,
              last_error: r.last_error,
              next_attempt_at: r.status === "pending" ? iso(r.next_attempt_at) : null,
              delivered_at: iso(r.delivered_at),
              created_at: iso(r.created_at) ?? ""
            })
        )
      })
    }, onDatabase)

    return { create, list, remove, test, deliveries } as const
  })
}) {}
