/** Writing an instance's replication files: the settings, the include, the passfile, standby.signal. */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, UnavailableError, errorMessage } from "../../errors/index.ts";
import { exists } from "../marker.ts";
import type { Credentials, HostAccess, InstanceContext } from "../types.ts";
import { LOOPBACK } from "../address.ts";
import { peerPassfile } from "./conninfo.ts";
import { REPLICATION_CONF, renderReplicationConf, withReplicationInclude, type ReplicationPlan } from "./replication-config.ts";

/** The file whose presence makes PostgreSQL start as a standby. */
export const STANDBY_SIGNAL = "standby.signal";

/** Write the replication account's pgpass file (0600, for the upstream's address) where `plan` says. */
export async function writeReplicationPassfile(plan: ReplicationPlan, replication: Credentials, host: HostAccess): Promise<void> {
  await host.writeFile(plan.passfile, peerPassfile(replication, plan.upstream?.host ?? LOOPBACK), 0o600);
}

/**
 * Apply `plan` to the data directory of `context` (after `configure`, before each start or with a reload):
 * REPLICATION_CONF, its include in postgresql.conf and, for a standby, the passfile and standby.signal.
 * A standby's data directory is never turned into a primary here: that takes a promotion
 * (starting it without standby.signal would skip the new timeline).
 */
export async function configureReplication(context: InstanceContext, plan: ReplicationPlan, replication: Credentials, host: HostAccess): Promise<void> {
  const signal = join(context.dataDirectory, STANDBY_SIGNAL);
  if (plan.role === "primary" && (await exists(signal))) {
    throw new ConflictError(`${context.instanceName} is a standby: promote it instead of configuring it as a primary`);
  }
  const postgresqlConf = join(context.dataDirectory, "postgresql.conf");
  let current: string;
  try {
    current = await readFile(postgresqlConf, "utf8");
  } catch (error) {
    throw new UnavailableError(`cannot read ${postgresqlConf}: ${errorMessage(error)}; initialise the instance before configuring replication`, { cause: error });
  }
  const next = withReplicationInclude(current);
  if (next !== current) await host.writeFile(postgresqlConf, next, 0o600);
  await host.writeFile(join(context.dataDirectory, REPLICATION_CONF), renderReplicationConf(plan), 0o600);
  await host.mkdir(context.runDirectory);
  // Only a standby connects to another server: a primary keeps no copy of the replication password.
  if (plan.role === "primary") {
    await rm(plan.passfile, { force: true });
    return;
  }
  await writeReplicationPassfile(plan, replication, host);
  await host.writeFile(signal, "", 0o600);
}
