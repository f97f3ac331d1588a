import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * PostgreSQL: `orw_claimed(claimed, wanted)`, the check that ends the pipelined append (EventStorePg.ts): when
 * fewer of its stream claims succeeded than it made, the statement fails (SQLSTATE OR409, the number that
 * succeeded in DETAIL) instead of answering, so the transaction is aborted at once and the COMMIT sent behind
 * it in the same round trip rolls it back. Nothing on SQLite, whose appends run one statement at a time.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () =>
      sql.unsafe(`CREATE OR REPLACE FUNCTION orw_claimed(claimed integer, wanted integer) RETURNS integer
        LANGUAGE plpgsql AS $$
        BEGIN
          IF claimed < wanted THEN
            RAISE EXCEPTION 'a stream moved since it was read' USING ERRCODE = 'OR409', DETAIL = claimed::text;
          END IF;
          RETURN claimed;
        END
        $$`),
    orElse: () => Effect.void
  })
})
