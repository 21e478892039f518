/**
 * Semi-synchronous replication under `holdfast.io/ha-synchronous` (ADR 0047): a commit is acknowledged to its client
 * only once a replica has it in its relay log (AFTER_SYNC: the primary waits before the commit becomes visible), and
 * never falls back to asynchronous commits. Built into the 10.11 server: no plugin to install.
 */
import { InvalidError } from "../../errors/index.ts";
import type { Credentials, HostAccess, InstanceContext, ReplicationDurability } from "../types.ts";
import { askMariadb, askMariadbRecords } from "./client.ts";
import { parseSlaveStatus } from "./replication-status.ts";
import { keepDurability } from "./kept-durability.ts";
import { semiSyncOptions, setGlobalSql } from "./replication-sql.ts";
import { localTarget } from "./server-control.ts";

/** MariaDB's semi-synchronous primary waits for one replica's acknowledgement: a larger quorum cannot be kept. */
export function checkQuorum(durability: ReplicationDurability): void {
  if (durability.mode === "synchronous" && durability.quorum > 1) {
    throw new InvalidError(`MariaDB's semi-synchronous replication waits for exactly one replica, not ${durability.quorum}: set holdfast.io/ha-synchronous to "1"`, {
      causes: [{ field: "metadata.annotations[holdfast.io/ha-synchronous]", message: "MariaDB supports a quorum of 1" }],
    });
  }
}

/**
 * Apply `durability` to the running server on `context` (the replica's side on every member, the primary's side on the
 * primary; a promotion turns it on before the first write) and keep it for its next start and promotion; a replica's IO
 * thread is restarted so it acknowledges (or stops doing so).
 */
export async function configureMariadbDurability(context: InstanceContext, durability: ReplicationDurability, admin: Credentials, host: HostAccess): Promise<void> {
  checkQuorum(durability);
  await keepDurability(context, durability, host);
  const target = localTarget(context);
  const role = (await askMariadb(target, admin, "SELECT @@GLOBAL.read_only"))[0]?.[0] === "0" ? "primary" : "secondary";
  await askMariadb(target, admin, setGlobalSql(semiSyncOptions(durability, role)));
  // A replica's IO thread reads rpl_semi_sync_slave_enabled when it starts.
  const slave = parseSlaveStatus(await askMariadbRecords(target, admin, "SHOW SLAVE STATUS"));
  if (slave !== undefined && slave.ioRunning !== "No") await askMariadb(target, admin, "STOP SLAVE IO_THREAD; START SLAVE IO_THREAD");
}
