import * as NodeCrypto from "node:crypto"
import { Database } from "@orw/server/DatabaseUrl"
import { Redacted } from "effect"
import * as Pg from "pg"
import { inject } from "vitest"

declare module "vitest" {
  export interface ProvidedContext {
    /** A superuser URL of the test cluster (scripts/vitest-pg-setup.mjs). */
    readonly pgUrl: string
    /** The cluster's folder (its data files), "" when the cluster is not ours to read. */
    readonly pgDir: string
  }
}

/** The test cluster's admin URL: provided by the global setup, or inherited by a spawned process. */
export const adminUrl = (): string => {
  const fromEnv = process.env.ORW_TEST_PG_URL
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv
  return inject("pgUrl")
}

/** The cluster's folder, for the tests that scan its data files. */
export const clusterDir = (): string => process.env.ORW_TEST_PG_DIR ?? inject("pgDir")

/** Whether this run puts the cross-engine suites (tests/http) on PostgreSQL. */
export const onPostgres = (): boolean => process.env.ORW_TEST_DB === "pg"

const withAdmin = async <A>(f: (client: Pg.Client) => Promise<A>): Promise<A> => {
  const client = new Pg.Client({ connectionString: adminUrl() })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

/** A new, empty database on the test cluster: its URL (as a string and as a Database). */
export const freshDatabase = async (
  options: {
    /**
     * A linguistic collation (ICU en-US, as managed servers default to) instead of the test cluster's C:
     * for the tests that hold answers byte-identical whatever the database's collation.
     */
    readonly linguistic?: boolean
  } = {}
): Promise<{ readonly url: string; readonly database: Database }> => {
  const name = `orw_${NodeCrypto.randomBytes(6).toString("hex")}`
  const collation =
    options.linguistic === true ? " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'" : ""
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}${collation}`))
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return { url: url.href, database: Database.Postgres({ url: Redacted.make(url.href) }) }
}

/** Drops a database made by {@link freshDatabase}, closing its remaining sessions. */
export const dropDatabase = (url: string): Promise<void> =>
  withAdmin(async (client) => {
    const name = new URL(url).pathname.slice(1)
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })
