import {
  ApiKeyEvents,
  ApiTokenEvents,
  BudgetEvents,
  currentSchemaVersion,
  DomainEvent,
  ReconciliationEvents,
  UsageEvents,
  UserEvents,
  UtcDate,
  upcasters,
  WebhookEvents
} from "@orw/domain"
import { Arbitrary, DateTime, FastCheck as fc, Schema, SchemaAST } from "effect"

import { describe, expect, it } from "vitest"
import { EventMetadata } from "../src/EventStore.js"
import { checkedTypes, isCanonicalIso, type LogRow, makeDecoder } from "../src/LogReader.js"
import { allProjections } from "../src/Projections/index.js"

const encodeEvent = Schema.encodeSync(DomainEvent)
const decodeEvent = Schema.decodeUnknownSync(DomainEvent)
const decodeMetadata = Schema.decodeUnknownSync(Schema.parseJson(EventMetadata))

/** UtcDate with a generator (its calendar filter over random strings would never end). */
const Day = UtcDate.annotations({
  arbitrary: () => (fc) =>
    fc
      .date({ noInvalidDate: true, min: new Date("1970-01-01"), max: new Date("2100-12-31") })
      .map((d) => d.toISOString().slice(0, 10) as UtcDate)
})

/** Every event class of the domain, each field that is a UtcDate given that generator. */
const eventSchemas = [
  ApiKeyEvents,
  ApiTokenEvents,
  BudgetEvents,
  ReconciliationEvents,
  UsageEvents,
  UserEvents,
  WebhookEvents
]
  .flatMap((ns) => Object.values(ns))
  .filter(
    (v): v is Schema.Struct<Schema.Struct.Fields> & { fields: Schema.Struct.Fields } =>
      typeof v === "function" && "fields" in v && "_tag" in (v as { fields: object }).fields
  )
  .map(
    (cls): Schema.Schema<Record<string, unknown>, Record<string, unknown>> =>
      Schema.Struct(
        Object.fromEntries(
          Object.entries(cls.fields).map(([name, field]) => {
            const ast = (field as Schema.Schema.Any).ast
            if (ast === UtcDate.ast) return [name, Day]
            if (SchemaAST.isUnion(ast) && ast.types.includes(UtcDate.ast)) return [name, Schema.NullOr(Day)]
            return [name, field]
          })
        ) as Schema.Struct.Fields
      ) as never
  )

/** Any event of any type, as its JSON (`_tag` included), decodable by DomainEvent. */
const encodedEvents = fc.oneof(
  ...eventSchemas.map((schema) => Arbitrary.make(schema).map((value) => Schema.encodeSync(schema)(value)))
)
const events = encodedEvents.map((encoded) => decodeEvent(encoded))
const metadata = Arbitrary.make(EventMetadata)

/** What the store does with a row (EventStore.toStored): the reference the cheap path must agree with. */
const storeDecode = (row: LogRow) => {
  const data = JSON.parse(row.data) as Record<string, unknown>
  decodeMetadata(row.metadata)
  return decodeEvent({ ...data, _tag: row.type })
}

const outcome = <A>(f: () => A): { readonly ok: A } | { readonly error: string } => {
  try {
    return { ok: f() }
  } catch (error) {
    return { error: String(error) }
  }
}

/** The row the store writes for an event: its data without `_tag`. */
const rowOf = (event: DomainEvent, meta: typeof EventMetadata.Type): LogRow => {
  const { _tag, ...data } = encodeEvent(event) as { _tag: string } & Record<string, unknown>
  return { position: 1, type: _tag, schema_version: 1, data: JSON.stringify(data), metadata: JSON.stringify(meta) }
}

/** Every projection's statement parameters for an event: what a replay writes. */
const writesOf = (tag: string, fields: object, at: string) =>
  allProjections.flatMap((p) => {
    const w = p.writes(p.table).get(tag)
    return w === undefined ? [] : [{ table: p.table, sql: w.sqlite, params: w.params(fields, at) }]
  })

const isPlain = (u: object) => Object.getPrototypeOf(u) === Object.prototype

describe("LogReader: the replay's cheap decode", () => {
  const decode = makeDecoder({ currentVersion: currentSchemaVersion, upcasters })

  it("covers every event type of DomainEvent", () => {
    const tags = new Set(fc.sample(events, 2000).map((e) => e._tag))
    expect(tags.size).toBeGreaterThan(25)
    expect([...checkedTypes].sort()).toEqual([...tags].sort())
  })

  it("decodes every valid event to the fields and time of the Schema decode, writing the same rows", () => {
    let cheap = 0
    fc.assert(
      fc.property(events, metadata, (event, meta) => {
        const row = rowOf(event, meta)
        // A number the JSON cannot hold (a factor of Infinity is written as null) makes an event no store reads.
        const stored = outcome(() => storeDecode(row))
        if ("error" in stored) {
          expect(outcome(() => decode(row))).toEqual(stored)
          return
        }
        const full = stored.ok
        const replayed = decode(row)
        expect(replayed.tag).toBe(full._tag)
        expect(replayed.at).toBe(DateTime.formatIso(full.at))
        // The cheap path hands on the JSON itself: exactly the encoded event, its tag included.
        expect(isPlain(replayed.fields)).toBe(isCanonicalIso(JSON.parse(row.data).at))
        if (isPlain(replayed.fields)) {
          cheap++
          expect(replayed.fields).toEqual(encodeEvent(full))
        }
        expect(writesOf(replayed.tag, replayed.fields, replayed.at)).toEqual(
          writesOf(full._tag, full, DateTime.formatIso(full.at))
        )
      }),
      { numRuns: 1500 }
    )
    // The property must not hold only through the fallback.
    expect(cheap).toBeGreaterThan(100)
  })

  /** A JSON value at some path of `data` replaced, removed, or a key added. */
  const mutate = (data: unknown, path: ReadonlyArray<number>, value: unknown, how: number): unknown => {
    if (typeof data !== "object" || data === null) return how === 0 ? value : data
    const entries = Object.entries(data)
    if (path.length === 0 || entries.length === 0) {
      return how === 1 ? { ...data, extra: value } : value
    }
    const [index, ...rest] = path
    const key = entries[index! % entries.length]![0]
    if (how === 2 && rest.length === 0) {
      const { [key]: _, ...others } = data as Record<string, unknown>
      return Array.isArray(data) ? data.filter((_, i) => String(i) !== key) : others
    }
    const copy: Record<string, unknown> | Array<unknown> = Array.isArray(data) ? [...data] : { ...data }
    ;(copy as Record<string, unknown>)[key] = mutate((data as Record<string, unknown>)[key], rest, value, how)
    return copy
  }

  const json = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      "",
      "x",
      "2026-02-30",
      "2026-02-28",
      "2026-01-01T00:00:00Z",
      "2026-01-01T00:00:00.000Z",
      -1,
      0.5,
      1e300,
      null,
      true,
      [],
      {}
    )
  )

  it("accepts a malformed or unusual event exactly when the Schema does, with the same fields, else fails as the store does", () => {
    const outcomes = { accepted: 0, rejected: 0 }
    fc.assert(
      fc.property(
        events,
        metadata,
        fc.array(fc.nat(20), { maxLength: 3 }),
        json,
        fc.nat(2),
        fc.boolean(),
        (event, meta, path, value, how, onMetadata) => {
          const row = rowOf(event, meta)
          const mutated: LogRow = onMetadata
            ? { ...row, metadata: JSON.stringify(mutate(meta, path, value, how)) }
            : { ...row, data: JSON.stringify(mutate(JSON.parse(row.data), path, value, how)) ?? "" }
          const ours = outcome(() => decode(mutated))
          const theirs = outcome(() => storeDecode(mutated))
          if ("ok" in theirs) {
            outcomes.accepted++
            expect("ok" in ours).toBe(true)
            if ("ok" in ours) {
              expect(ours.ok.at).toBe(DateTime.formatIso(theirs.ok.at))
              expect(writesOf(ours.ok.tag, ours.ok.fields, ours.ok.at)).toEqual(
                writesOf(theirs.ok._tag, theirs.ok, DateTime.formatIso(theirs.ok.at))
              )
              if (isPlain(ours.ok.fields)) expect(ours.ok.fields).toEqual(encodeEvent(theirs.ok))
            }
          } else {
            outcomes.rejected++
            expect(ours).toEqual(theirs)
          }
        }
      ),
      { numRuns: 2000 }
    )
    // Both sides of the property were exercised.
    expect(outcomes.accepted).toBeGreaterThan(200)
    expect(outcomes.rejected).toBeGreaterThan(200)
  })

  it("rejects, as the Schema does, the shapes a hand check could miss", () => {
    const base = {
      keyId: "k",
      userId: "u",
      date: "2026-03-01",
      model: "m",
      totals: { requests: 1, tokensInput: 2, tokensOutput: 3, cost: 4, byokCost: 0 },
      at: "2026-03-01T10:00:00.000Z"
    }
    const meta = JSON.stringify({ actor: null, source: "sync", correlationId: "c", causationId: null, requestId: null })
    const cases: ReadonlyArray<Record<string, unknown>> = [
      { ...base, keyId: "" },
      { ...base, date: "2026-02-29" },
      { ...base, totals: { ...base.totals, requests: -1 } },
      { ...base, totals: { ...base.totals, cost: 1.5 } },
      { ...base, totals: { ...base.totals, cost: 2 ** 53 } },
      { ...base, at: "2026-03-01T10:00:00.000+01:00" },
      { ...base, at: "not a time" },
      (({ model: _, ...rest }) => rest)(base)
    ]
    for (const data of cases) {
      const row: LogRow = {
        position: 1,
        type: "UsageRecorded",
        schema_version: 1,
        data: JSON.stringify(data),
        metadata: meta
      }
      const ours = outcome(() => decode(row))
      const theirs = outcome(() => storeDecode(row))
      if ("ok" in ours && "ok" in theirs) {
        // Only the time with an offset is valid, and the fallback decodes it: the fields are the Schema's.
        expect(isPlain(ours.ok.fields)).toBe(false)
        expect(ours.ok.fields).toEqual(theirs.ok)
        expect(ours.ok.at).toBe("2026-03-01T09:00:00.000Z")
      } else expect(ours).toEqual(theirs)
    }
    const good: LogRow = {
      position: 7,
      type: "UsageRecorded",
      schema_version: 1,
      data: JSON.stringify(base),
      metadata: meta
    }
    expect(isPlain(decode(good).fields)).toBe(true)
    expect(outcome(() => decode({ ...good, type: "NoSuchEvent" }))).toEqual(
      outcome(() => storeDecode({ ...good, type: "NoSuchEvent" }))
    )
    expect("error" in outcome(() => decode({ ...good, metadata: meta.replace('"sync"', '"mail"') }))).toBe(true)
    expect("error" in outcome(() => decode({ ...good, data: "{" }))).toBe(true)
  })

  it("upcasts old schema versions before checking, as the store does", () => {
    const upcasting = makeDecoder({
      currentVersion: (type) => (type === "PasswordChanged" ? 2 : 1),
      upcasters: [
        {
          type: "PasswordChanged",
          fromVersion: 1,
          up: ({ hash, ...rest }: Record<string, unknown>) => ({ ...rest, passwordHash: hash })
        }
      ]
    })
    const replayed = upcasting({
      position: 3,
      type: "PasswordChanged",
      schema_version: 1,
      data: JSON.stringify({ userId: "old", hash: "legacy", at: "2026-01-01T00:00:00.000Z" }),
      metadata: JSON.stringify({ actor: null, source: "cli", correlationId: "c", causationId: null, requestId: null })
    })
    expect(replayed).toEqual({
      position: 3,
      tag: "PasswordChanged",
      fields: { _tag: "PasswordChanged", userId: "old", passwordHash: "legacy", at: "2026-01-01T00:00:00.000Z" },
      at: "2026-01-01T00:00:00.000Z"
    })
  })

  it("isCanonicalIso holds exactly for the text toISOString writes", () => {
    const reference = (s: string) => {
      const ms = Date.parse(s)
      return !Number.isNaN(ms) && new Date(ms).toISOString() === s
    }
    const instant = fc.date({
      noInvalidDate: true,
      min: new Date("0000-01-01T00:00:00.000Z"),
      max: new Date("9999-12-31T23:59:59.999Z")
    })
    fc.assert(
      fc.property(instant, fc.nat(23), fc.constantFrom(..."0123456789-T:.Z+ x"), (d, i, c) => {
        const s = d.toISOString()
        expect(isCanonicalIso(s)).toBe(true)
        const t = s.slice(0, i) + c + s.slice(i + 1)
        expect(isCanonicalIso(t)).toBe(reference(t))
      }),
      { numRuns: 20000 }
    )
    for (const s of [
      "2025-02-29T00:00:00.000Z",
      "1900-02-29T00:00:00.000Z",
      "2025-04-31T00:00:00.000Z",
      "2025-12-31T23:59:60.000Z"
    ]) {
      expect(isCanonicalIso(s)).toBe(false)
    }
    expect(isCanonicalIso("2000-02-29T00:00:00.000Z")).toBe(true)
  })
})
