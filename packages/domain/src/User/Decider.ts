import { Either, Match } from "effect"
import { type CommandRejections, EmailAlreadyRegistered, InvalidEmail, UserNotFound } from "../Errors.js"
import type { ApiKeyId, UserId } from "../Ids.js"
import type { ChangePassword, DeleteUser, RegisterUser, UserCommand } from "./Commands.js"
import { isAcceptedEmail, normalizeEmail } from "./Email.js"
import type { EmailEvent, UserEvent } from "./Events.js"
import { EmailClaimed, EmailReleased, PasswordChanged, UserDeleted, UserRegistered } from "./Events.js"

export type UserState =
  | { readonly _tag: "Unregistered" }
  | {
      readonly _tag: "Registered"
      readonly userId: UserId
      readonly email: string
      readonly keyIds: ReadonlyArray<ApiKeyId>
      /**
       * The SHA-256 of each attached key that recorded one (keys attached before issue 8 did not): the keyring
       * is the boundary of "one OpenRouter key once per user", as it is of the key limit.
       */
      readonly keyHashes: ReadonlyArray<{ readonly keyId: ApiKeyId; readonly keyHash: string }>
    }
  | { readonly _tag: "Deleted"; readonly userId: UserId }

/** Who holds an email address: the state of one `email-<address>` stream. */
export type EmailState = { readonly owner: UserId | null }

export const initialUserState = (): UserState => ({ _tag: "Unregistered" })
export const initialEmailState = (): EmailState => ({ owner: null })

export { normalizeEmail }

export const evolveUser = (state: UserState, event: UserEvent): UserState =>
  Match.value(event).pipe(
    Match.tagsExhaustive({
      UserRegistered: (e): UserState =>
        state._tag === "Unregistered"
          ? { _tag: "Registered", userId: e.userId, email: e.email, keyIds: [], keyHashes: [] }
          : state,
      PasswordChanged: () => state,
      UserDeleted: (e): UserState => ({ _tag: "Deleted", userId: e.userId }),
      KeyAttached: (e): UserState =>
        state._tag === "Registered"
          ? {
              ...state,
              keyIds: [...state.keyIds, e.keyId],
              keyHashes:
                e.keyHash === undefined ? state.keyHashes : [...state.keyHashes, { keyId: e.keyId, keyHash: e.keyHash }]
            }
          : state,
      KeyDetached: (e): UserState =>
        state._tag === "Registered"
          ? {
              ...state,
              keyIds: state.keyIds.filter((id) => id !== e.keyId),
              keyHashes: state.keyHashes.filter((h) => h.keyId !== e.keyId)
            }
          : state
    })
  )

export const evolveEmail = (_state: EmailState, event: EmailEvent): EmailState =>
  event._tag === "EmailClaimed" ? { owner: event.userId } : { owner: null }

/** What user commands decide on: the user's stream and the stream of the email they claim. */
export interface UserContext {
  readonly user: UserState
  readonly email: EmailState
}

/** The decision of one command, refused only with what {@link CommandRejections} lists for it. */
type Decision<C extends UserCommand["_tag"]> = Either.Either<
  ReadonlyArray<UserEvent | EmailEvent>,
  CommandRejections[C]
>

const registerUser = (cmd: RegisterUser, ctx: UserContext): Decision<"RegisterUser"> => {
  const email = normalizeEmail(cmd.email)
  if (!isAcceptedEmail(email)) return Either.left(new InvalidEmail())
  if (ctx.email.owner !== null || ctx.user._tag !== "Unregistered") return Either.left(new EmailAlreadyRegistered())
  return Either.right([
    new EmailClaimed({ email, userId: cmd.userId, at: cmd.at }),
    new UserRegistered({ userId: cmd.userId, email, passwordHash: cmd.passwordHash, at: cmd.at })
  ])
}

const changePassword = (cmd: ChangePassword, ctx: UserContext): Decision<"ChangePassword"> =>
  ctx.user._tag !== "Registered"
    ? Either.left(new UserNotFound())
    : Either.right([new PasswordChanged({ userId: cmd.userId, passwordHash: cmd.passwordHash, at: cmd.at })])

const deleteUser = (cmd: DeleteUser, ctx: UserContext): Decision<"DeleteUser"> => {
  if (ctx.user._tag !== "Registered") return Either.left(new UserNotFound())
  const email = ctx.user.email
  return Either.right([
    new UserDeleted({ userId: cmd.userId, email, at: cmd.at }),
    new EmailReleased({ email, userId: cmd.userId, at: cmd.at })
  ])
}

/** Decides a user command; the email stream to load is `emailStream(normalizeEmail(...))`. */
export const decideUser = (cmd: UserCommand, ctx: UserContext): Decision<UserCommand["_tag"]> =>
  Match.value(cmd).pipe(
    Match.tagsExhaustive({
      RegisterUser: (c) => registerUser(c, ctx),
      ChangePassword: (c) => changePassword(c, ctx),
      DeleteUser: (c) => deleteUser(c, ctx)
    })
  )
