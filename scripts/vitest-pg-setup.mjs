// vitest globalSetup: the PostgreSQL cluster the suites run against. `.ci/run` starts one and exports
// ORW_TEST_PG_URL / ORW_TEST_PG_DIR; a local run without them gets a throwaway cluster of its own,
// stopped when vitest ends (also when tests fail).
import { start, stop } from "./pg-cluster.mjs"

export default async function setup({ provide }) {
  let owned
  if (process.env.ORW_TEST_PG_URL === undefined) {
    owned = await start({ fast: true })
    process.env.ORW_TEST_PG_URL = owned.url
    process.env.ORW_TEST_PG_DIR = owned.dir
  }
  provide("pgUrl", process.env.ORW_TEST_PG_URL)
  provide("pgDir", process.env.ORW_TEST_PG_DIR ?? "")
  return () => {
    if (owned !== undefined) stop(owned.dir)
  }
}
