/**
 * Reading the log for a replay, cheaply and as strictly as the store (EventStore.ts) reads it.
 *
 * The store decodes every event through the whole `DomainEvent` Schema into class instances (~15 µs an
 * event) and its metadata through another Schema. A replay only hands each event's fields to the
 * projections' writes, so here the JSON is checked, not rebuilt: a check per event type is compiled once
 * from the Schema's own AST (its refinements' own predicates: ids' minLength, Int, nonNegative, calendar
 * days...), and an event that passes is handed on as the parsed JSON itself, its time as the ISO text it
 * holds. The check only accepts what the Schema would decode to the very same fields (no excess key, no
 * missing one, a time already in the one form `formatIso` writes): anything else, valid or not, goes
 * through the full Schema decode, so the same events pass, with the same values, and the same ones fail
 * with the same error. (test/LogReader.test.ts holds the two side by side over every event type.)
 */
import { DomainEvent } from "@orw/domain"
import { SchemaAST as AST, DateTime, Option, Schema } from "effect"
import type { EventSchemasShape } from "./EventStore.js"
import { EventMetadata } from "./EventStore.js"

/** An event as the projections' writes read it: its type, its fields, its time as ISO 8601 UTC. */
export interface ReplayedEvent {
  readonly position: number
  readonly tag: string
  readonly fields: object
  readonly at: string
}

/** A row of the log, the columns a replay reads. */
export interface LogRow {
  readonly position: number | string
  readonly type: string
  readonly schema_version: number | string
  readonly data: string
  readonly metadata: string
}

/** The columns of {@link LogRow}, for the SELECT. */
export const LOG_COLUMNS = "position, type, schema_version, data, metadata"

type Check = (u: unknown) => boolean

const OPTIONS: AST.ParseOptions = {}

const digit = (s: string, i: number) => {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : Number.NaN
}
const number = (s: string, from: number, length: number) => {
  let n = 0
  for (let i = from; i < from + length; i++) n = n * 10 + digit(s, i)
  return n
}
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * `s` is an instant in the one form `DateTime.formatIso` writes, `YYYY-MM-DDTHH:MM:SS.sssZ` naming a real
 * instant (so DateTimeUtc decodes it and formats it back to `s`), checked without parsing it as a Date.
 */
export const isCanonicalIso = (s: unknown): s is string => {
  if (typeof s !== "string" || s.length !== 24) return false
  if (s[4] !== "-" || s[7] !== "-" || s[10] !== "T" || s[13] !== ":" || s[16] !== ":" || s[19] !== ".") return false
  if (s[23] !== "Z") return false
  const year = number(s, 0, 4)
  const month = number(s, 5, 2)
  const day = number(s, 8, 2)
  // NaN (a non-digit) fails every comparison below.
  if (!(year >= 0 && month >= 1 && month <= 12 && day >= 1)) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (!(day <= (month === 2 && leap ? 29 : DAYS[month - 1]!))) return false
  return number(s, 11, 2) <= 23 && number(s, 14, 2) <= 59 && number(s, 17, 2) <= 59 && number(s, 20, 3) >= 0
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A check of the encoded side of `ast` that accepts only values the Schema decodes to themselves, or
 * undefined when the AST holds something this does not follow (then the full decode is used).
 */
const compile = (ast: AST.AST): Check | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const members = ast.types.map(compile)
      if (members.some((m) => m === undefined)) return undefined
      const checks = members as ReadonlyArray<Check>
      return (u) => checks.some((check) => check(u))
    }
    case "Refinement": {
      const from = compile(ast.from)
      if (from === undefined) return undefined
      return (u) => from(u) && Option.isNone(ast.filter(u, OPTIONS, ast))
    }
    case "TupleType": {
      // Arrays only (`Schema.Array`): no fixed elements, one rest type.
      if (ast.elements.length !== 0 || ast.rest.length !== 1) return undefined
      const item = compile(ast.rest[0]!.type)
      if (item === undefined) return undefined
      return (u) => Array.isArray(u) && u.every(item)
    }
    case "TypeLiteral":
      return struct(ast, [])
    default:
      return undefined
  }
}

/**
 * A struct: a record with each property checked, no key the Schema does not know (it would drop it) and
 * every required key present (the Schema would decode a missing one as `undefined`). `skip` names
 * properties checked elsewhere (an event's `_tag` and `at`).
 */
const struct = (ast: AST.TypeLiteral, skip: ReadonlyArray<string>): Check | undefined => {
  if (ast.indexSignatures.length !== 0) return undefined
  const props: Array<{ readonly name: string; readonly optional: boolean; readonly check: Check }> = []
  for (const ps of ast.propertySignatures) {
    if (typeof ps.name !== "string") return undefined
    if (skip.includes(ps.name)) continue
    const check = compile(ps.type)
    if (check === undefined) return undefined
    props.push({ name: ps.name, optional: ps.isOptional, check })
  }
  return (u) => {
    if (!isRecord(u)) return false
    let present = 0
    for (const name of skip) if (Object.hasOwn(u, name)) present++
    for (const { name, optional, check } of props) {
      if (Object.hasOwn(u, name)) {
        if (!check(u[name])) return false
        present++
      } else if (!optional) return false
    }
    let keys = 0
    for (const _ in u) keys++
    return keys === present
  }
}

/** The event types' classes in the union (nested unions flattened): tag → the encoded side's AST. */
const eventClasses = (ast: AST.AST, out: Map<string, AST.TypeLiteral | undefined>) => {
  if (AST.isUnion(ast)) {
    for (const member of ast.types) eventClasses(member, out)
    return out
  }
  if (AST.isTransformation(ast) && AST.isTypeLiteral(ast.from)) {
    const tag = ast.from.propertySignatures.find((ps) => ps.name === "_tag")
    if (tag !== undefined && AST.isLiteral(tag.type) && typeof tag.type.literal === "string") {
      out.set(tag.type.literal, ast.from)
    }
  }
  return out
}

/**
 * The cheap check of each event type's stored data (no `_tag`, its `at` as the canonical ISO text), for
 * the types whose encoded side this follows (all of them today).
 */
const compileEventChecks = () => {
  const checks = new Map<string, Check>()
  for (const [tag, ast] of eventClasses(DomainEvent.ast, new Map())) {
    if (ast === undefined) continue
    const at = ast.propertySignatures.find((ps) => ps.name === "at")
    // `at` must be exactly Schema.DateTimeUtc: a string decoded by DateTime.unsafeMake, formatted back by formatIso.
    if (at === undefined || at.isOptional || at.type !== Schema.DateTimeUtc.ast) continue
    const fields = struct(ast, ["_tag", "at"])
    if (fields === undefined) continue
    checks.set(tag, (u) => fields(u) && isCanonicalIso((u as Record<string, unknown>).at))
  }
  return checks
}

const eventChecks = compileEventChecks()

/** The event types the cheap check covers (the others always take the full decode). */
export const checkedTypes: ReadonlySet<string> = new Set(eventChecks.keys())

const decodeEvent = Schema.decodeUnknownSync(DomainEvent)
const decodeMetadata = Schema.decodeUnknownSync(Schema.parseJson(EventMetadata))
const SOURCES: ReadonlySet<unknown> = new Set(EventMetadata.fields.source.literals)
const nullOrString = (u: unknown) => u === null || typeof u === "string"

/** The metadata JSON holds exactly what EventMetadata decodes to itself (else the Schema decides and throws). */
const isMetadata = (u: unknown) => {
  if (!isRecord(u)) return false
  let keys = 0
  for (const _ in u) keys++
  return (
    keys === 5 &&
    nullOrString(u.actor) &&
    SOURCES.has(u.source) &&
    typeof u.correlationId === "string" &&
    Object.hasOwn(u, "causationId") &&
    nullOrString(u.causationId) &&
    Object.hasOwn(u, "requestId") &&
    nullOrString(u.requestId) &&
    Object.hasOwn(u, "actor")
  )
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Decodes the rows of the log as the store does (upcast to the current schema version, then decoded), each
 * through the cheap check when it passes, the full Schema decode otherwise. Throws what the store's decode
 * throws on an event it cannot read.
 */
export const makeDecoder = (schemas: EventSchemasShape) => {
  const upcast = (type: string, from: number, data: Record<string, unknown>) => {
    let version = from
    const target = schemas.currentVersion(type)
    while (version < target) {
      const at = version
      const upcaster = schemas.upcasters.find((u) => u.type === type && u.fromVersion === at)
      if (upcaster === undefined) throw new Error(`No upcaster for ${type} v${at}`)
      data = upcaster.up(data)
      version++
    }
    return data
  }

  // Consecutive events of one command share their metadata: the same text is checked once.
  let checkedMetadata: string | undefined

  return (row: LogRow): ReplayedEvent => {
    const position = Number(row.position)
    const version = Number(row.schema_version)
    const upcasting = version < schemas.currentVersion(row.type)
    let data = (upcasting ? JSON.parse(row.data) : parse(row.data)) as Record<string, unknown>
    if (upcasting) data = upcast(row.type, version, data)
    if (row.metadata !== checkedMetadata) {
      if (!isMetadata(parse(row.metadata))) decodeMetadata(row.metadata)
      checkedMetadata = row.metadata
    }
    const check = eventChecks.get(row.type)
    if (check?.(data)) {
      const at = data.at as string
      data._tag = row.type
      return { position, tag: row.type, fields: data, at }
    }
    // What the store does, with its errors (a malformed JSON text throws as JSON.parse does there).
    if (data === undefined) JSON.parse(row.data)
    const event = decodeEvent({ ...data, _tag: row.type })
    return { position, tag: event._tag, fields: event, at: DateTime.formatIso(event.at) }
  }
}
