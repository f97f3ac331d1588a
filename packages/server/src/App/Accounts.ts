import * as NodeCrypto from "node:crypto"
import { SqlClient } from "@effect/sql"
import {
  CurrentPasswordIncorrect,
  EmailAlreadyRegistered,
  InvalidCredentials,
  PasswordIncorrect,
  UserCommands,
  UserId,
  UserNotFound
} from "@orw/domain"
import { type FieldError, Unprocessable, UserResponse } from "@orw/domain/Api"
import { DateTime, Effect, Option, Redacted } from "effect"
import { Jwt } from "../Auth/Jwt.js"
import { Passwords, passwordProblems } from "../Auth/Passwords.js"
import { Dispatcher } from "../Dispatcher.js"
import * as Users from "../Projections/Users.js"
import { metadataOf, type Origin } from "./Origin.js"

/** A session for a user: the JWT (redacted) and its lifetime in seconds. */
export interface IssuedSession {
  readonly userId: UserId
  readonly token: Redacted.Redacted<string>
  readonly expiresIn: number
}

/** The rules of a new password and its confirmation: a 422 naming every broken rule. */
const checkNewPassword = (field: string, password: Redacted.Redacted<string>, confirm: Redacted.Redacted<string>) => {
  const problems = passwordProblems(password)
  const errors: Array<FieldError> = problems.map((message) => ({ path: field, message }))
  if (errors.length === 0 && Redacted.value(password) !== Redacted.value(confirm)) {
    errors.push({ path: `${field}_confirm`, message: "Passwords do not match" })
  }
  return errors.length === 0
    ? Effect.void
    : Effect.fail(new Unprocessable({ detail: errors.map((e) => e.message).join("; "), errors }))
}

const toResponse = (user: Users.UserRecord) =>
  new UserResponse({ id: user.id, email: user.email, created_at: user.createdAt })

/** Accounts: registration, login, password change and deletion (argon2id, JWT sessions). */
export class Accounts extends Effect.Service<Accounts>()("orw/App/Accounts", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // The read model's queries, on this service's database.
    const byEmail = (email: string) => Effect.provideService(Users.byEmail(email), SqlClient.SqlClient, sql)
    const byId = (userId: UserId) => Effect.provideService(Users.byId(userId), SqlClient.SqlClient, sql)
    const dispatcher = yield* Dispatcher
    const passwords = yield* Passwords
    const jwt = yield* Jwt
    // Unknown emails still cost one verification, so the response time does not tell which emails exist.
    const decoy = yield* Effect.orDie(passwords.hash(Redacted.make(NodeCrypto.randomUUID())))

    const existing = (userId: UserId) =>
      Effect.flatMap(byId(userId), (row) =>
        Option.isSome(row) ? Effect.succeed(row.value) : Effect.fail(new UserNotFound())
      )

    const session = (userId: UserId) =>
      Effect.flatMap(DateTime.now, (now) => jwt.issue(userId, now)).pipe(
        Effect.map(({ token, expiresIn }): IssuedSession => ({ userId, token, expiresIn }))
      )

    /** 201 with the new account; 400 `Email already registered`; 422 for a weak or unconfirmed password. */
    const register = Effect.fn("Accounts.register")(function* (
      input: {
        readonly email: string
        readonly password: Redacted.Redacted<string>
        readonly confirm: Redacted.Redacted<string>
      },
      origin: Origin
    ) {
      yield* checkNewPassword("password", input.password, input.confirm)
      if (Option.isSome(yield* byEmail(input.email))) {
        return yield* new EmailAlreadyRegistered()
      }
      const userId = UserId.make(NodeCrypto.randomUUID())
      const passwordHash = yield* passwords.hash(input.password)
      const at = yield* DateTime.now
      yield* dispatcher.dispatch(new UserCommands.RegisterUser({ userId, email: input.email, passwordHash, at }), {
        metadata: metadataOf(origin, userId)
      })
      return toResponse(yield* Effect.flatten(byId(userId)).pipe(Effect.orDie))
    })

    /** A new session for valid credentials, else 401 `Invalid credentials` (same answer for an unknown email). */
    const login = Effect.fn("Accounts.login")(function* (email: string, password: Redacted.Redacted<string>) {
      const user = yield* byEmail(email)
      const valid = yield* passwords.verify(
        password,
        Option.match(user, { onNone: () => decoy, onSome: (u) => u.passwordHash })
      )
      if (!valid || Option.isNone(user)) return yield* new InvalidCredentials()
      return yield* session(user.value.id)
    })

    /** The signed-in user. */
    const me = Effect.fn("Accounts.me")(function* (userId: UserId) {
      return toResponse(yield* existing(userId))
    })

    /** Changes the password (older sessions end) and returns a fresh session. */
    const changePassword = Effect.fn("Accounts.changePassword")(function* (
      userId: UserId,
      input: {
        readonly current: Redacted.Redacted<string>
        readonly next: Redacted.Redacted<string>
        readonly confirm: Redacted.Redacted<string>
      },
      origin: Origin
    ) {
      const user = yield* existing(userId)
      if (!(yield* passwords.verify(input.current, user.passwordHash))) {
        return yield* new CurrentPasswordIncorrect()
      }
      yield* checkNewPassword("new_password", input.next, input.confirm)
      const passwordHash = yield* passwords.hash(input.next)
      const at = yield* DateTime.now
      yield* dispatcher.dispatch(new UserCommands.ChangePassword({ userId: userId, passwordHash, at }), {
        metadata: metadataOf(origin, userId)
      })
      return yield* session(userId)
    })

    /**
     * Deletes the account once `password` confirms it (400 `Password is incorrect` otherwise): its keys are
     * shredded, its tokens and sessions stop working.
     */
    const deleteAccount = Effect.fn("Accounts.deleteAccount")(function* (
      userId: UserId,
      password: Redacted.Redacted<string>,
      origin: Origin
    ) {
      const user = yield* existing(userId)
      if (!(yield* passwords.verify(password, user.passwordHash))) return yield* new PasswordIncorrect()
      const at = yield* DateTime.now
      yield* dispatcher.dispatch(new UserCommands.DeleteUser({ userId: userId, at }), {
        metadata: metadataOf(origin, userId)
      })
    })

    return { register, login, me, changePassword, deleteAccount } as const
  })
}) {}
