/**
 * The replication part of redis.conf. Every instance of a replicated component carries the replication and
 * Sentinel ACL users and `masteruser`/`masterauth`, the master too: Sentinel may make any of them a replica.
 * `masterauth` is the one password held in plaintext, because Redis reads it from nowhere else; the file is
 * 0600, owned by the service user, in a 0700 directory.
 */
import { isIP } from "node:net";
import { InvalidError } from "../../errors/index.ts";
import { LOOPBACK } from "../address.ts";
import type { InstanceContext } from "../types.ts";
import { aclUserLine, quote, renderRedisConf } from "./config.ts";
import { REPLICATION_PERMISSIONS, SENTINEL_PERMISSIONS, checkPlaintextPassword, type RedisReplicationAccounts } from "./replication-accounts.ts";

/** Redis' own default `replica-priority`: eligible, with no preference. */
export const DEFAULT_REPLICA_PRIORITY = 100;

/** How one instance takes part in replication. */
export interface RedisReplicaSettings {
  /** Port of the master to replicate from; undefined runs the instance as a master. */
  masterPort: number | undefined;
  /** The master's address (an IP address); 127.0.0.1 when not given. */
  masterHost?: string | undefined;
  /** Sentinel promotes the lowest non-zero priority first and never 0; Redis' default is 100. */
  replicaPriority?: number;
}

function checkSettings(context: InstanceContext, settings: RedisReplicaSettings): void {
  const priority = settings.replicaPriority ?? DEFAULT_REPLICA_PRIORITY;
  const causes = [];
  if (settings.masterPort !== undefined && (!Number.isInteger(settings.masterPort) || settings.masterPort < 1 || settings.masterPort > 65535)) {
    causes.push({ field: "masterPort", message: "must be a TCP port" });
  }
  if (settings.masterHost !== undefined && isIP(settings.masterHost) === 0) causes.push({ field: "masterHost", message: "must be an IP address" });
  if (settings.masterPort === context.port) causes.push({ field: "masterPort", message: "must not be the instance's own port" });
  if (!Number.isInteger(priority) || priority < 0) causes.push({ field: "replicaPriority", message: "must be an integer of 0 or more" });
  if (causes.length > 0) {
    throw new InvalidError(`invalid replication settings for ${context.instanceName}: ${causes.map((c) => `${c.field} ${c.message}`).join("; ")}`, { causes });
  }
}

/** The replication lines of redis.conf for `settings` (pure). */
export function replicationConfLines(context: InstanceContext, accounts: RedisReplicationAccounts, settings: RedisReplicaSettings): string[] {
  checkSettings(context, settings);
  checkPlaintextPassword(accounts.replication, "accounts.replication.password");
  const lines = [
    aclUserLine(accounts.replication, REPLICATION_PERMISSIONS),
    aclUserLine(accounts.sentinel, SENTINEL_PERMISSIONS),
    `masteruser ${accounts.replication.username}`,
    `masterauth ${quote(accounts.replication.password)}`,
    "replica-read-only yes",
    `replica-priority ${settings.replicaPriority ?? DEFAULT_REPLICA_PRIORITY}`,
    // Redis waits 5 s for more replicas before a diskless full sync; on one host each replica may sync at once.
    "repl-diskless-sync-delay 0",
  ];
  // The master and Sentinel know a replica by the address it announces, not by its connection's source address.
  if (context.address !== undefined) lines.push(`replica-announce-ip ${context.address}`);
  if (settings.masterPort !== undefined) lines.push(`replicaof ${settings.masterHost ?? LOOPBACK} ${settings.masterPort}`);
  return lines;
}

/** The whole redis.conf of an instance of a replicated component (pure). */
export function renderReplicatedRedisConf(context: InstanceContext, accounts: RedisReplicationAccounts, settings: RedisReplicaSettings): string {
  return renderRedisConf(context, [accounts.admin], replicationConfLines(context, accounts, settings));
}
