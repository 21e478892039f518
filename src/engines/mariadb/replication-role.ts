/**
 * The role an instance starts in. The server reads it from my.cnf (`read-only`, reporting itself to its primary under
 * its instance name, semi-synchronous settings) and, for a replica, from an init file of the instance's run directory
 * (0600, its OS user's) that points it at its primary and starts replication: CHANGE MASTER needs a running server,
 * and the init file runs before the server accepts a connection, so a replica never answers as anything else.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { DesiredReplicationRole, HostAccess, InstanceContext, ReplicationCredentials, ReplicationDurability } from "../types.ts";
import { cloneFromPrimary, emptyDataDirectory } from "./clone.ts";
import { isMariadbInitialized, configureMariadb } from "./initialize.ts";
import { keptDurability } from "./kept-durability.ts";
import { markRole, markedRole } from "./role-marker.ts";
import { changeMasterSql, semiSyncOptions } from "./replication-sql.ts";

/** The init file of a replica, in the run directory. */
export function replicaInitFile(context: InstanceContext): string {
  return join(context.runDirectory, "replica-init.sql");
}

/** Did the (initialised) data directory last run as a primary? One never marked was initialised as one. */
export async function lastRanAsPrimary(context: InstanceContext): Promise<boolean> {
  if (!(await isMariadbInitialized(context))) return false;
  return (await markedRole(context)) !== "secondary";
}

/** my.cnf lines of a replicated instance in `role` (pure). */
export function roleLines(context: InstanceContext, role: DesiredReplicationRole["role"], durability: ReplicationDurability): string[] {
  const semiSync = Object.entries(semiSyncOptions(durability, role)).map(([name, value]) => `${name} = ${value}`);
  return [
    `read-only = ${role === "primary" ? "OFF" : "ON"}`,
    // Replication threads start only as Holdfast says (the init file, follow): never towards a stale primary.
    "skip-slave-start",
    `report-host = ${context.instanceName}`,
    `report-port = ${context.port}`,
    ...semiSync,
    ...(role === "primary" ? [] : [`init-file = ${replicaInitFile(context)}`]),
  ];
}

/**
 * The init file of a replica of `upstream`, one statement a line (as the server reads it). Every transaction a
 * replicated instance applied or wrote is in its binlog (log-slave-updates, one GTID domain), so a binlog that holds
 * any is where it continues from: a former primary's own last writes included. If the new primary lacks some of
 * them, it refuses with error 1236 and `diverged` says so. A fresh clone's binlog is empty: it continues from the
 * dump's `gtid_slave_pos`.
 */
export function replicaInitSql(desired: Extract<DesiredReplicationRole, { role: "secondary" }>, credentials: ReplicationCredentials, caFile: string | undefined): string {
  return [
    "SET GLOBAL gtid_slave_pos = IF(@@GLOBAL.gtid_binlog_pos = '', @@GLOBAL.gtid_slave_pos, @@GLOBAL.gtid_binlog_pos);",
    changeMasterSql({ upstream: desired.upstream, account: credentials.replication, caFile }),
    "START SLAVE;",
    "",
  ].join("\n");
}

/** See EngineReplication.configureRole: a diverged replica is cloned anew from the upstream before it starts. */
export async function configureRole(context: InstanceContext, desired: DesiredReplicationRole, credentials: ReplicationCredentials, host: HostAccess): Promise<undefined> {
  if (desired.role === "secondary" && desired.rewind === true) {
    await emptyDataDirectory(context);
    await cloneFromPrimary(context, desired.upstream, credentials, host);
  }
  await configureMariadb(context, host, roleLines(context, desired.role, await keptDurability(context)));
  if (desired.role === "primary") {
    await rm(replicaInitFile(context), { force: true });
    await markRole(context, "primary", host);
    return;
  }
  await host.writeFile(replicaInitFile(context), replicaInitSql(desired, credentials, context.tls?.caFile), 0o600);
  await markRole(context, "secondary", host);
}
