import { Either, Match } from "effect"
import { AlreadyExists, type CommandRejections, UserNotFound, WebhookForbidden, WebhookNotFound } from "../Errors.js"
import type { UserId, WebhookId } from "../Ids.js"
import type { UserState } from "../User/Decider.js"
import type { WebhookCommand } from "./Commands.js"
import { WebhookAdded, WebhookDeleted, type WebhookEvent } from "./Events.js"
import { checkWebhookUrl } from "./Url.js"

export type WebhookState =
  | { readonly _tag: "None" }
  | { readonly _tag: "Active"; readonly webhookId: WebhookId; readonly userId: UserId }
  | { readonly _tag: "Deleted"; readonly webhookId: WebhookId; readonly userId: UserId }

export const initialWebhookState = (): WebhookState => ({ _tag: "None" })

export const evolveWebhook = (state: WebhookState, event: WebhookEvent): WebhookState =>
  event._tag === "WebhookAdded"
    ? state._tag === "None"
      ? { _tag: "Active", webhookId: event.webhookId, userId: event.userId }
      : state
    : { _tag: "Deleted", webhookId: event.webhookId, userId: event.userId }

export interface WebhookContext {
  readonly user: UserState
  readonly webhook: WebhookState
}

type Decision<C extends WebhookCommand["_tag"]> = Either.Either<ReadonlyArray<WebhookEvent>, CommandRejections[C]>

export const decideWebhook = (cmd: WebhookCommand, ctx: WebhookContext): Decision<WebhookCommand["_tag"]> =>
  Match.value(cmd).pipe(
    Match.tagsExhaustive({
      AddWebhook: (c): Decision<"AddWebhook"> => {
        if (ctx.webhook._tag !== "None") return Either.left(new AlreadyExists())
        if (ctx.user._tag !== "Registered" || ctx.user.userId !== c.userId) return Either.left(new UserNotFound())
        return Either.map(checkWebhookUrl(c.url, c.allowPrivate), (url) => [
          new WebhookAdded({
            webhookId: c.webhookId,
            userId: c.userId,
            url,
            format: c.format,
            ciphertext: c.ciphertext,
            at: c.at
          })
        ])
      },
      DeleteWebhook: (c): Decision<"DeleteWebhook"> => {
        if (ctx.webhook._tag !== "Active") return Either.left(new WebhookNotFound())
        if (ctx.webhook.userId !== c.userId) return Either.left(new WebhookForbidden())
        return Either.right([new WebhookDeleted({ webhookId: c.webhookId, userId: c.userId, at: c.at })])
      }
    })
  )
