import { Command } from "@effect/cli"
import { VERSION } from "@orw/domain/Version"
import { backup, restore } from "./commands/Backup.js"
import { demo } from "./commands/Demo.js"
import { doctor } from "./commands/Doctor.js"
import { events } from "./commands/Events.js"
import { keys } from "./commands/Keys.js"
import { migrateTo } from "./commands/MigrateTo.js"
import { projections } from "./commands/Projections.js"
import { discrepancies, reconcile } from "./commands/Reconcile.js"
import { replay } from "./commands/Replay.js"
import { sync } from "./commands/Sync.js"
import { missingSubcommand } from "./Failure.js"

/** `orw`: the admin command line over the server's database (DATABASE_URL or DATA_DIR). */
export const orw = Command.make("orw", {}, () =>
  missingSubcommand(
    "orw",
    "events, replay, projections, keys, sync, reconcile, discrepancies, backup, restore, doctor, demo, migrate-to"
  )
).pipe(
  Command.withDescription(
    "Admin command line of openrouter-watcher: audit log, replay, projections, keys, sync, reconcile, discrepancies, " +
      "backup, restore, doctor, demo, migrate-to"
  ),
  Command.withSubcommands([
    events,
    replay,
    projections,
    keys,
    sync,
    reconcile,
    discrepancies,
    backup,
    restore,
    doctor,
    demo,
    migrateTo
  ])
)

/** Runs `orw` on a full argv (node, script, args...). */
export const run = Command.run(orw, { name: "orw", version: VERSION })
