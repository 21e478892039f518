/**
 * Where an instance's durability mode lives: `holdfast-synchronous.conf`, included from `postgresql.conf`
 * after the replication settings, so its synchronous_standby_names wins over their empty one. Every member
 * of a component gets the same file (a standby ignores the setting), so a standby promoted in a failover
 * makes commits wait for its quorum from its first write on, and a clone copies it with the data directory.
 * Starting an instance rewrites the replication settings but leaves this file alone.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { Credentials, HostAccess, InstanceContext, ReplicationDurability } from "../types.ts";
import { quote } from "./config.ts";
import { REPLICATION_INCLUDE_LINE, withReplicationInclude } from "./replication-config.ts";
import { replicationName } from "./replication-name.ts";
import { reloadPostgresql } from "./server-control.ts";
import { planSynchronousReplication, type SynchronousSettings } from "./synchronous.ts";

/** The file holding the durability settings, in the data directory. */
export const SYNCHRONOUS_CONF = "holdfast-synchronous.conf";

/** The line `postgresql.conf` needs, after the replication include, to read SYNCHRONOUS_CONF. */
export const SYNCHRONOUS_INCLUDE_LINE = `include_if_exists = '${SYNCHRONOUS_CONF}'`;

/** The content of SYNCHRONOUS_CONF for `settings`. */
export function renderSynchronousConf(settings: SynchronousSettings): string {
  return [
    "# Managed by Holdfast: the durability mode of the component, the same on every member.",
    `synchronous_standby_names = ${quote(settings.synchronous_standby_names)}`,
    `synchronous_commit = ${quote(settings.synchronous_commit)}`,
    "",
  ].join("\n");
}

/** `postgresql.conf` reading holdfast.conf, then the replication settings, then SYNCHRONOUS_CONF; unchanged when already so. */
export function withSynchronousInclude(postgresqlConf: string): string {
  const base = withReplicationInclude(postgresqlConf);
  const lines = base.split("\n");
  const replication = lines.findIndex((line) => line.trim() === REPLICATION_INCLUDE_LINE);
  const synchronous = lines.findIndex((line) => line.trim() === SYNCHRONOUS_INCLUDE_LINE);
  if (synchronous > replication) return base;
  const kept = lines.filter((line) => line.trim() !== SYNCHRONOUS_INCLUDE_LINE).join("\n");
  const separator = kept.endsWith("\n") ? "" : "\n";
  return `${kept}${separator}${SYNCHRONOUS_INCLUDE_LINE}\n`;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Write the settings of `durability` over the replicas `standbys` (instance names) into the running instance on
 * `context` and reload it. Refuses (InvalidError) a quorum larger than the replicas or a synchronous_commit
 * parameter that does not wait for standbys.
 */
export async function configurePostgresqlDurability(context: InstanceContext, durability: ReplicationDurability, standbys: readonly string[], admin: Credentials, host: HostAccess): Promise<void> {
  const settings = planSynchronousReplication(durability, standbys.map(replicationName), context.parameters);
  const postgresqlConf = join(context.dataDirectory, "postgresql.conf");
  const current = await readText(postgresqlConf);
  if (current === undefined) throw new UnavailableError(`cannot read ${postgresqlConf}; the instance is not initialised yet`);
  const next = withSynchronousInclude(current);
  if (next !== current) await host.writeFile(postgresqlConf, next, 0o600);
  const file = join(context.dataDirectory, SYNCHRONOUS_CONF);
  const content = renderSynchronousConf(settings);
  if ((await readText(file)) !== content) await host.writeFile(file, content, 0o600);
  try {
    await reloadPostgresql(context.port, admin);
  } catch (error) {
    throw new UnavailableError(`${context.instanceName} did not reload its durability settings: ${errorMessage(error)}`, { cause: error });
  }
}
