import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { AppConfig, layerDotEnv, validateHost } from "../src/Config.js"
import { Database, describeDatabase } from "../src/DatabaseUrl.js"

const dirs: Array<string> = []
const tempDir = () => {
  const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "orw-config-"))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) NodeFs.rmSync(dir, { recursive: true, force: true })
})

/** Loads AppConfig the way main does: the .env provider below the service layer. */
const loadWith = (env: Record<string, string>, cwd: string) =>
  Effect.flatMap(AppConfig, (config) => Effect.succeed(config)).pipe(
    Effect.provide(AppConfig.Default.pipe(Layer.provide(layerDotEnv({ env, cwd }))))
  )

const captureLogs = (logs: Array<string>) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${JSON.stringify(message)}`))
  )

const strong = { SECRET_KEY: "s".repeat(40), ENCRYPTION_KEY: "ab".repeat(32) }

describe("AppConfig", () => {
  it.effect("defaults (development, secrets generated in the data folder)", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const config = yield* loadWith({ DATA_DIR: dir }, dir)
      expect(config).toMatchObject({
        nodeEnv: "development",
        production: false,
        database: Database.Sqlite({ filename: NodePath.join(dir, "app.db") }),
        openRouterApiUrl: "https://openrouter.ai/api/v1",
        syncIntervalMinutes: 60,
        maxApiKeysPerUser: 10,
        rateLimitRequests: 100,
        rateLimitWindowSeconds: 3600,
        jwtExpirationHours: 24,
        authRateLimitPerMinute: 5,
        debug: false,
        port: 8000,
        host: "127.0.0.1",
        allowedHosts: ["localhost", "127.0.0.1", "[::1]"]
      })
      expect(config.logLevel).toBe(LogLevel.Info)
      expect(Option.isNone(config.encryptionKeyPrevious)).toBe(true)
    })
  )

  it.effect("reads .env from the working directory; the real environment wins", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const dotEnv = ["PORT=9000", "SYNC_INTERVAL_MINUTES=5", "LOG_LEVEL=debug", `DATA_DIR=${dir}`, "DEBUG=true"]
      NodeFs.writeFileSync(NodePath.join(dir, ".env"), `${dotEnv.join("\n")}\n`)
      const config = yield* loadWith({ PORT: "9100", ...strong }, dir)
      expect(config.port).toBe(9100)
      expect(config.syncIntervalMinutes).toBe(5)
      expect(config.logLevel).toBe(LogLevel.Debug)
      expect(config.debug).toBe(true)
      expect(config.dataDir).toBe(dir)
    })
  )

  it.effect("an invalid value stops the start with one line naming the variable", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const error = yield* Effect.flip(loadWith({ DATA_DIR: dir, PORT: "eighty", ...strong }, dir))
      expect(error._tag).toBe("InvalidConfig")
      expect(error.message).toMatch(/^PORT: /)
      expect(error.message).not.toContain("\n")
      const zero = yield* Effect.flip(loadWith({ DATA_DIR: dir, MAX_API_KEYS_PER_USER: "0", ...strong }, dir))
      expect(zero.message).toMatch(/^MAX_API_KEYS_PER_USER: /)
      for (const factor of ["Infinity", "1e999", "-2", "0"]) {
        const refused = yield* Effect.flip(loadWith({ DATA_DIR: dir, SPIKE_FACTOR: factor, ...strong }, dir))
        expect(refused.message).toMatch(/^SPIKE_FACTOR: /)
      }
    })
  )

  it.effect(
    "DATABASE_URL: a sqlite URL names the file; postgres:// and postgresql:// select PostgreSQL, the password redacted",
    () =>
      Effect.gen(function* () {
        const dir = tempDir()
        const file = yield* loadWith({ DATABASE_URL: `sqlite:///${dir}/orw.db`, ...strong }, dir)
        expect(file.database).toEqual(Database.Sqlite({ filename: NodePath.join(dir, "orw.db") }))
        for (const url of ["postgres://orw:s3cret@db:5432/orw", "postgresql://orw:s3cret@db/orw"]) {
          const config = yield* loadWith({ DATABASE_URL: url, DATA_DIR: dir, ...strong }, dir)
          expect(config.database._tag).toBe("Postgres")
          if (config.database._tag === "Postgres") expect(Redacted.value(config.database.url)).toBe(url)
          expect(config.secretsDir).toBe(dir)
          expect(String(config.database)).not.toContain("s3cret")
          expect(JSON.stringify(config.database)).not.toContain("s3cret")
          expect(describeDatabase(config.database)).not.toContain("s3cret")
        }
      })
  )

  describe("production", () => {
    const prod = (extra: Record<string, string>) => {
      const dir = tempDir()
      return Effect.map(loadWith({ NODE_ENV: "production", DATA_DIR: dir, ...extra }, dir), (c) => ({ c, dir }))
    }

    it.effect("refuses a missing SECRET_KEY with one line naming it", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(prod({ ENCRYPTION_KEY: strong.ENCRYPTION_KEY }))
        expect(error).toMatchObject({ _tag: "InvalidConfig", variable: "SECRET_KEY" })
        expect(error.message).toMatch(/^SECRET_KEY is not set/)
        expect(error.message).not.toContain("\n")
      })
    )

    it.effect("refuses a short SECRET_KEY or ENCRYPTION_KEY without echoing it", () =>
      Effect.gen(function* () {
        const shortSecret = yield* Effect.flip(prod({ ...strong, SECRET_KEY: "hunter2hunter2" }))
        expect(shortSecret).toMatchObject({ variable: "SECRET_KEY" })
        expect(shortSecret.message).toMatch(/^SECRET_KEY is too short/)
        expect(shortSecret.message).not.toContain("hunter2")
        const shortKey = yield* Effect.flip(prod({ ...strong, ENCRYPTION_KEY: "abcdef0123" }))
        expect(shortKey).toMatchObject({ variable: "ENCRYPTION_KEY" })
        expect(shortKey.message).not.toContain("abcdef0123")
        const missingKey = yield* Effect.flip(prod({ SECRET_KEY: strong.SECRET_KEY }))
        expect(missingKey.message).toMatch(/^ENCRYPTION_KEY is not set/)
      })
    )

    it.effect("starts with strong secrets, listens on all interfaces, writes no secrets file", () =>
      Effect.gen(function* () {
        const { c, dir } = yield* prod(strong)
        expect(c.production).toBe(true)
        expect(c.host).toBe("0.0.0.0")
        expect(Redacted.value(c.secretKey)).toBe(strong.SECRET_KEY)
        expect(NodeFs.existsSync(NodePath.join(dir, "secrets.json"))).toBe(false)
      })
    )
  })

  it.effect("development generates secrets.json (0600) once, warns without values, and reuses it", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const dataDir = NodePath.join(dir, "nested", "data")
      const logs: Array<string> = []
      const env = { DATABASE_URL: `sqlite:///${NodePath.join(dataDir, "orw.db")}` }
      const first = yield* loadWith(env, dir).pipe(Effect.provide(captureLogs(logs)))
      const file = NodePath.join(dataDir, "secrets.json")
      expect(NodeFs.statSync(file).mode & 0o777).toBe(0o600)
      const content = NodeFs.readFileSync(file, "utf8")
      const secret = Redacted.value(first.secretKey)
      const key = Redacted.value(first.encryptionKey)
      expect(secret).toMatch(/^[0-9a-f]{64}$/)
      expect(key).toMatch(/^[0-9a-f]{64}$/)
      expect(secret).not.toBe(key)
      expect(logs.some((l) => l.startsWith("WARN") && l.includes("SECRET_KEY and ENCRYPTION_KEY"))).toBe(true)
      expect(logs.join("\n")).not.toContain(secret)
      expect(logs.join("\n")).not.toContain(key)

      const second = yield* loadWith(env, dir).pipe(Effect.provide(captureLogs(logs)))
      expect(Redacted.value(second.secretKey)).toBe(secret)
      expect(Redacted.value(second.encryptionKey)).toBe(key)
      expect(NodeFs.readFileSync(file, "utf8")).toBe(content)
      expect(NodeFs.readdirSync(dataDir)).toEqual(["secrets.json"])

      // A variable that is set wins over the file; only the missing one comes from it.
      const third = yield* loadWith({ ...env, SECRET_KEY: strong.SECRET_KEY }, dir)
      expect(Redacted.value(third.secretKey)).toBe(strong.SECRET_KEY)
      expect(Redacted.value(third.encryptionKey)).toBe(key)
    })
  )

  it.effect("a corrupt secrets.json stops the start without quoting it", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      NodeFs.writeFileSync(NodePath.join(dir, "secrets.json"), '{"SECRET_KEY": "leaked-value')
      const error = yield* Effect.flip(loadWith({ DATA_DIR: dir }, dir))
      expect(error.variable).toBe("DATA_DIR")
      expect(error.message).toContain("not valid JSON")
      expect(error.message).not.toContain("leaked-value")
    })
  )
})

describe("validateHost", () => {
  const defaults = ["localhost", "127.0.0.1", "[::1]"]

  it("allows the defaults with or without a port, case-insensitively", () => {
    expect(validateHost("localhost", defaults)).toBe(true)
    expect(validateHost("LocalHost:8000", defaults)).toBe(true)
    expect(validateHost("127.0.0.1:8000", defaults)).toBe(true)
    expect(validateHost("[::1]:8000", defaults)).toBe(true)
    expect(validateHost("localhost.", defaults)).toBe(true)
  })

  it("refuses other, empty and malformed hosts", () => {
    expect(validateHost("evil.com", defaults)).toBe(false)
    expect(validateHost("localhost.evil.com", defaults)).toBe(false)
    expect(validateHost("", defaults)).toBe(false)
    expect(validateHost(undefined, defaults)).toBe(false)
    expect(validateHost("localhost@evil.com", defaults)).toBe(false)
    expect(validateHost("localhost:80:80", defaults)).toBe(false)
  })

  it("supports * and *.example.com patterns, and ports in patterns", () => {
    expect(validateHost("anything.org:1", ["*"])).toBe(true)
    const wild = ["*.example.com"]
    expect(validateHost("api.example.com", wild)).toBe(true)
    expect(validateHost("a.b.example.com:443", wild)).toBe(true)
    expect(validateHost("example.com", wild)).toBe(false)
    expect(validateHost("badexample.com", wild)).toBe(false)
    expect(validateHost("example.com:8443", ["example.com:8443"])).toBe(true)
    expect(validateHost("example.com:8080", ["example.com:8443"])).toBe(false)
    expect(validateHost("[::1]", ["::1"])).toBe(true)
  })
})
