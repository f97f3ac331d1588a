import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as NodeUtil from "node:util"
import {
  Config,
  ConfigError,
  ConfigProvider,
  Duration,
  Effect,
  Either,
  Layer,
  LogLevel,
  Option,
  Redacted,
  Schema
} from "effect"
import { Database, parseDatabaseUrl } from "./DatabaseUrl.js"

/** A setting that stops the start. `message` is the one line to print; it names the variable, never a value. */
export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  variable: Schema.String,
  message: Schema.String
}) {}

/** SECRET_KEY and ENCRYPTION_KEY (and ENCRYPTION_KEY_PREVIOUS) must have at least this many characters. */
export const MIN_SECRET_LENGTH = 32
export const DEFAULT_ALLOWED_HOSTS = "localhost,127.0.0.1,[::1]"

const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+?)\.?(?::(\d{1,5}))?$/

const splitHost = (raw: string): { readonly name: string; readonly port: string | undefined } | undefined => {
  const m = HOST_RE.exec(raw.trim().toLowerCase())
  return m?.[1] === undefined || m[1] === "" ? undefined : { name: m[1], port: m[2] }
}

/** An ALLOWED_HOSTS entry in canonical form: lower case, a bare IPv6 address gets its brackets. */
const normalizePattern = (pattern: string): string => {
  const p = pattern.trim().toLowerCase().replace(/\.$/, "")
  return !p.startsWith("[") && (p.match(/:/g)?.length ?? 0) > 1 ? `[${p}]` : p
}

/**
 * Whether a request's `Host` header (port optional) is allowed. Patterns: `*` allows any host;
 * `*.example.com` allows every subdomain of example.com (not example.com itself); a pattern with a
 * port (`example.com:8443`) must match the port too; anything else is an exact, case-insensitive name.
 */
export const validateHost = (host: string | null | undefined, allowedHosts: ReadonlyArray<string>): boolean => {
  const parsed = host === null || host === undefined ? undefined : splitHost(host)
  if (parsed === undefined) return false
  return allowedHosts.map(normalizePattern).some((pattern) => {
    if (pattern === "*") return true
    if (pattern.startsWith("*."))
      return parsed.name.endsWith(pattern.slice(1)) && parsed.name.length > pattern.length - 1
    const wanted = splitHost(pattern)
    if (wanted === undefined) return false
    return wanted.name === parsed.name && (wanted.port === undefined || wanted.port === parsed.port)
  })
}

const LOG_LEVELS: Record<string, LogLevel.LogLevel> = {
  ALL: LogLevel.All,
  TRACE: LogLevel.Trace,
  DEBUG: LogLevel.Debug,
  INFO: LogLevel.Info,
  WARN: LogLevel.Warning,
  WARNING: LogLevel.Warning,
  ERROR: LogLevel.Error,
  CRITICAL: LogLevel.Fatal,
  FATAL: LogLevel.Fatal,
  NONE: LogLevel.None,
  OFF: LogLevel.None
}

/** A positive number (fractions allowed: SYNC_INTERVAL_MINUTES=0.5 in the demo). */
const positiveNumber = (name: string, fallback: number) =>
  Config.number(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((n) =>
      // Finite too: SPIKE_FACTOR=Infinity (or 1e999) would be written into KeySpendSpiked as JSON null.
      Number.isFinite(n) && n > 0
        ? Either.right(n)
        : Either.left(ConfigError.InvalidData([name], `Expected a positive number, got ${n}`))
    )
  )

const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((n) =>
      n > 0 ? Either.right(n) : Either.left(ConfigError.InvalidData([name], `Expected a positive integer, got ${n}`))
    )
  )

/**
 * Where the data lives: DATA_DIR (default ./data, resolved) and the database, DATABASE_URL (a SQLite
 * file or a PostgreSQL server) else the SQLite file `<DATA_DIR>/app.db`. The only reading of both
 * variables: AppConfig includes it, and the CLI's read-only commands use it alone, as they need no secrets.
 */
export const StorageConfig = Config.all({
  url: Config.string("DATABASE_URL").pipe(Config.option),
  dataDir: Config.string("DATA_DIR").pipe(Config.withDefault("./data"))
}).pipe(
  Config.mapOrFail(({ url, dataDir }) => {
    const dir = NodePath.resolve(dataDir)
    const database = Option.isSome(url)
      ? parseDatabaseUrl(url.value)
      : Either.right(Database.Sqlite({ filename: NodePath.join(dir, "app.db") }))
    return database.pipe(
      Either.map((database) => ({ dataDir: dir, database })),
      Either.mapLeft((detail) => ConfigError.InvalidData(["DATABASE_URL"], detail))
    )
  })
)

const settings = Config.all({
  nodeEnv: Config.string("NODE_ENV").pipe(Config.withDefault("development")),
  storage: StorageConfig,
  openRouterApiUrl: Config.url("OPENROUTER_API_URL").pipe(
    Config.map((url) => url.href.replace(/\/+$/, "")),
    Config.withDefault("https://openrouter.ai/api/v1")
  ),
  openRouterTimeout: Config.duration("OPENROUTER_TIMEOUT").pipe(Config.withDefault(Duration.seconds(15))),
  syncIntervalMinutes: positiveNumber("SYNC_INTERVAL_MINUTES", 60),
  maxApiKeysPerUser: positiveInt("MAX_API_KEYS_PER_USER", 10),
  spikeFactor: positiveNumber("SPIKE_FACTOR", 3),
  webhookAllowPrivate: Config.boolean("WEBHOOK_ALLOW_PRIVATE").pipe(Config.withDefault(false)),
  rateLimitRequests: positiveInt("RATE_LIMIT_REQUESTS", 100),
  rateLimitWindowSeconds: positiveInt("RATE_LIMIT_WINDOW", 3600),
  jwtExpirationHours: positiveInt("JWT_EXPIRATION_HOURS", 24),
  authRateLimitPerMinute: positiveInt("AUTH_RATE_LIMIT_PER_MINUTE", 5),
  debug: Config.boolean("DEBUG").pipe(Config.withDefault(false)),
  logLevel: Config.string("LOG_LEVEL").pipe(
    Config.withDefault("INFO"),
    Config.mapOrFail((text) => {
      const level = LOG_LEVELS[text.trim().toUpperCase()]
      return level === undefined
        ? Either.left(ConfigError.InvalidData(["LOG_LEVEL"], `Expected one of ${Object.keys(LOG_LEVELS).join(", ")}`))
        : Either.right(level)
    })
  ),
  logFormat: Config.literal("json", "text")("LOG_FORMAT").pipe(Config.option),
  port: Config.port("PORT").pipe(Config.withDefault(8000)),
  host: Config.string("HOST").pipe(Config.option),
  allowedHosts: Config.string("ALLOWED_HOSTS").pipe(
    Config.withDefault(DEFAULT_ALLOWED_HOSTS),
    Config.mapOrFail((text) => {
      const hosts = text
        .split(",")
        .map((h) => h.trim())
        .filter((h) => h !== "")
      return hosts.length === 0
        ? Either.left(ConfigError.InvalidData(["ALLOWED_HOSTS"], "Expected a comma-separated list of host names"))
        : Either.right(hosts)
    })
  ),
  secretKey: Config.redacted("SECRET_KEY").pipe(Config.option),
  encryptionKey: Config.redacted("ENCRYPTION_KEY").pipe(Config.option),
  encryptionKeyPrevious: Config.redacted("ENCRYPTION_KEY_PREVIOUS").pipe(Config.option)
})

/** The first concrete problem of a ConfigError, as one line naming its variable. */
const oneLine = (error: ConfigError.ConfigError): InvalidConfig => {
  switch (error._op) {
    case "And":
    case "Or":
      return oneLine(ConfigError.isMissingDataOnly(error.left) ? error.right : error.left)
    default: {
      const variable = error.path.join("_") || "configuration"
      const detail = error.message.replace(/\s+/g, " ")
      return new InvalidConfig({ variable, message: `${variable}: ${detail}` })
    }
  }
}

const present = (value: Option.Option<Redacted.Redacted<string>>) =>
  Option.filter(value, (v) => Redacted.value(v).trim() !== "")

const requireLength = (variable: string, value: Redacted.Redacted<string>) =>
  Redacted.value(value).trim().length >= MIN_SECRET_LENGTH
    ? Effect.succeed(value)
    : Effect.fail(
        new InvalidConfig({
          variable,
          message: `${variable} is too short: it needs at least ${MIN_SECRET_LENGTH} characters (openssl rand -hex 32)`
        })
      )

const DEV_SECRET_NAMES = ["SECRET_KEY", "ENCRYPTION_KEY"] as const
type DevSecrets = Record<(typeof DEV_SECRET_NAMES)[number], string>

/**
 * Development secrets in `<dataDir>/secrets.json` (mode 0600): read when present, else generated once.
 * Written to a temporary file then hard-linked into place, so two processes starting at once agree.
 */
const devSecrets = (dataDir: string) =>
  Effect.try({
    try: () => {
      const file = NodePath.join(dataDir, "secrets.json")
      NodeFs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      const fresh: DevSecrets = {
        SECRET_KEY: NodeCrypto.randomBytes(32).toString("hex"),
        ENCRYPTION_KEY: NodeCrypto.randomBytes(32).toString("hex")
      }
      const temp = `${file}.${process.pid}.${NodeCrypto.randomBytes(4).toString("hex")}.tmp`
      NodeFs.writeFileSync(temp, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600 })
      try {
        NodeFs.linkSync(temp, file)
        return { file, created: true, secrets: fresh }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      } finally {
        NodeFs.rmSync(temp, { force: true })
      }
      let stored: unknown
      try {
        stored = JSON.parse(NodeFs.readFileSync(file, "utf8"))
      } catch {
        // The parser's message would quote the file's content: keep it out of the error.
        throw new Error(`${file} is not valid JSON`)
      }
      const valid = (s: unknown): s is DevSecrets =>
        typeof s === "object" && s !== null && DEV_SECRET_NAMES.every((n) => typeof Reflect.get(s, n) === "string")
      if (!valid(stored)) throw new Error(`${file} lacks SECRET_KEY or ENCRYPTION_KEY`)
      return { file, created: false, secrets: stored }
    },
    catch: (error) =>
      new InvalidConfig({
        variable: "DATA_DIR",
        message: `DATA_DIR: cannot use development secrets: ${error instanceof Error ? error.message : String(error)}`
      })
  })

const resolveSecrets = (raw: Config.Config.Success<typeof settings>, secretsDir: string) =>
  Effect.gen(function* () {
    const production = raw.nodeEnv === "production"
    let secretKey = present(raw.secretKey)
    let encryptionKey = present(raw.encryptionKey)
    const missing = DEV_SECRET_NAMES.filter((n) => Option.isNone(n === "SECRET_KEY" ? secretKey : encryptionKey))
    const [firstMissing] = missing
    if (firstMissing !== undefined && production) {
      return yield* new InvalidConfig({
        variable: firstMissing,
        message: `${firstMissing} is not set: production needs at least ${MIN_SECRET_LENGTH} random characters (openssl rand -hex 32)`
      })
    }
    if (firstMissing !== undefined) {
      const dev = yield* devSecrets(secretsDir)
      secretKey = Option.orElse(secretKey, () => Option.some(Redacted.make(dev.secrets.SECRET_KEY)))
      encryptionKey = Option.orElse(encryptionKey, () => Option.some(Redacted.make(dev.secrets.ENCRYPTION_KEY)))
      yield* Effect.logWarning(
        `${missing.join(" and ")} not set: ${dev.created ? "generated" : "using"} development secrets in ${dev.file}` +
          " (set NODE_ENV=production and real secrets for a deployment)"
      )
    }
    const previous = present(raw.encryptionKeyPrevious)
    return {
      production,
      secretKey: yield* requireLength("SECRET_KEY", Option.getOrThrow(secretKey)),
      encryptionKey: yield* requireLength("ENCRYPTION_KEY", Option.getOrThrow(encryptionKey)),
      encryptionKeyPrevious: Option.isSome(previous)
        ? Option.some(yield* requireLength("ENCRYPTION_KEY_PREVIOUS", previous.value))
        : Option.none<Redacted.Redacted<string>>()
    }
  })

/** The level logs are kept from: LOG_LEVEL, lowered to Debug when DEBUG is true (a lower LOG_LEVEL stays). */
export const effectiveLogLevel = (logLevel: LogLevel.LogLevel, debug: boolean): LogLevel.LogLevel =>
  debug && LogLevel.greaterThan(logLevel, LogLevel.Debug) ? LogLevel.Debug : logLevel

/**
 * Every setting, read once at start from the current ConfigProvider (see {@link layerDotEnv}); the
 * services take their values from here rather than reading the environment again.
 * HOST defaults to 0.0.0.0 in production (a container must be reachable through its mapped port) and to
 * 127.0.0.1 otherwise: a development instance runs on generated secrets and should not face the network.
 */
export const load = Effect.gen(function* () {
  const raw = yield* Effect.mapError(settings, oneLine)
  const { dataDir, database } = raw.storage
  // Development secrets sit beside a SQLite file; with PostgreSQL (or in memory) in DATA_DIR.
  const secretsDir =
    database._tag === "Sqlite" && database.filename !== ":memory:" ? NodePath.dirname(database.filename) : dataDir
  const secrets = yield* resolveSecrets(raw, secretsDir)
  const { secretKey: _s, encryptionKey: _e, encryptionKeyPrevious: _p, host, storage: _d, logFormat, ...rest } = raw
  return {
    ...rest,
    ...secrets,
    dataDir,
    database,
    secretsDir,
    logLevel: effectiveLogLevel(raw.logLevel, raw.debug),
    /** JSON lines in production unless LOG_FORMAT says otherwise; readable text elsewhere. */
    logFormat: Option.getOrElse(logFormat, (): "json" | "text" => (secrets.production ? "json" : "text")),
    host: Option.getOrElse(host, () => (secrets.production ? "0.0.0.0" : "127.0.0.1"))
  }
}).pipe(Effect.withSpan("AppConfig.load"))

/** The loaded settings. */
export type AppSettings = Effect.Effect.Success<typeof load>

/** The application's settings as a service; fails to build with one {@link InvalidConfig} line. */
export class AppConfig extends Effect.Service<AppConfig>()("orw/AppConfig", { effect: load }) {
  /** Fixed settings for tests (random-looking but constant secrets, in-memory database). */
  static layerTest(overrides: Partial<AppSettings> = {}) {
    return Layer.succeed(AppConfig, AppConfig.make({ ...testSettings, ...overrides }))
  }
}

const testSettings: AppSettings = {
  nodeEnv: "test",
  production: false,
  database: Database.Sqlite({ filename: ":memory:" }),
  dataDir: NodePath.resolve("data"),
  secretsDir: NodePath.resolve("data"),
  openRouterApiUrl: "https://openrouter.ai/api/v1",
  openRouterTimeout: Duration.seconds(15),
  syncIntervalMinutes: 60,
  maxApiKeysPerUser: 10,
  spikeFactor: 3,
  webhookAllowPrivate: false,
  rateLimitRequests: 100,
  rateLimitWindowSeconds: 3600,
  jwtExpirationHours: 24,
  authRateLimitPerMinute: 5,
  debug: false,
  logLevel: LogLevel.Info,
  logFormat: "text",
  port: 8000,
  host: "127.0.0.1",
  allowedHosts: DEFAULT_ALLOWED_HOSTS.split(","),
  secretKey: Redacted.make("test-secret-key-0123456789abcdef0123456789abcdef"),
  encryptionKey: Redacted.make("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
  encryptionKeyPrevious: Option.none()
}

/** Options of {@link dotEnvProvider}: where `.env` lives, and the real environment (default `process.env`). */
export interface DotEnvOptions {
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
}

const toMap = (record: Record<string, string | undefined>) =>
  new Map(Object.entries(record).filter((entry): entry is [string, string] => entry[1] !== undefined))

/** The environment, falling back to `<cwd>/.env` for what it lacks: real variables win. */
export const dotEnvProvider = (options: DotEnvOptions = {}) =>
  Effect.try({
    try: () => {
      const file = NodePath.join(options.cwd ?? process.cwd(), ".env")
      const fromFile = NodeFs.existsSync(file) ? NodeUtil.parseEnv(NodeFs.readFileSync(file, "utf8")) : {}
      const primary =
        options.env === undefined
          ? ConfigProvider.fromEnv()
          : ConfigProvider.fromMap(toMap(options.env), { pathDelim: "_" })
      return ConfigProvider.orElse(primary, () => ConfigProvider.fromMap(toMap(fromFile), { pathDelim: "_" }))
    },
    catch: (error) =>
      new InvalidConfig({
        variable: ".env",
        message: `.env: cannot be read (${(error as NodeJS.ErrnoException).code ?? "invalid"})`
      })
  })

/** Installs {@link dotEnvProvider} for every later `Config` read (provide it first, below everything else). */
export const layerDotEnv = (options: DotEnvOptions = {}) =>
  Layer.unwrapEffect(Effect.map(dotEnvProvider(options), Layer.setConfigProvider))
