/**
 * What replication adds to an instance's configuration, planned without I/O.
 *
 * The settings live in `holdfast-replication.conf`, included from `postgresql.conf` after
 * `holdfast.conf`, so the standalone configuration stays as it is and replication only adds to it.
 * Connections between instances name a pgpass file instead of carrying a password.
 */
import { join } from "node:path";
import type { SystemAccount } from "../types.ts";
import { INCLUDE_LINE, quote, withInclude } from "./config.ts";
import { connectionConninfo, type ServerConnection } from "./conninfo.ts";
import { HOT_STANDBY_CONF } from "./hot-standby-settings.ts";
import { replicationName } from "./replication-name.ts";
import type { SynchronousSettings } from "./synchronous.ts";

/** The account standbys stream as; also runs pg_basebackup and pg_rewind (KubeBlocks' name). */
export const REPLICATION_ACCOUNT: SystemAccount = { name: "kbreplicator", purpose: "streaming replication, base backups and pg_rewind" };

/** File holding the replication settings, rewritten whenever the plan changes. */
export const REPLICATION_CONF = "holdfast-replication.conf";

/** The line `postgresql.conf` needs, after INCLUDE_LINE, to read the replication settings. */
export const REPLICATION_INCLUDE_LINE = `include_if_exists = '${REPLICATION_CONF}'`;

/** The replication account's pgpass file, in the instance's run directory (not copied by clones). */
export const REPLICATION_PASSFILE = "replication.pgpass";

/** CloudNativePG's default: WAL kept for a rejoining former primary whose slot does not exist yet. */
const DEFAULT_WAL_KEEP_SIZE = "512MB";
const DEFAULT_MAX_REPLICAS = 5;

/** A server reachable from this host. */
export interface UpstreamServer {
  host: string;
  port: number;
}

/** What the planner needs to know about one instance. */
export interface ReplicationPlanInput {
  instanceName: string;
  runDirectory: string;
  /** The primary to stream from; absent when the instance is the primary. */
  upstream?: UpstreamServer | undefined;
  /** The synchronous settings from planSynchronousReplication; absent: asynchronous. */
  synchronous?: SynchronousSettings | undefined;
  /** The most replicas the component may have: sizes WAL senders and slots (default 5). */
  maxReplicas?: number | undefined;
  /** The user's parameters: tunables they set are left to them. */
  parameters?: Readonly<Record<string, string>> | undefined;
  /** The CA file the upstream's certificate must be signed by: connections to it are then TLS with verify-full. */
  sslRootCert?: string | undefined;
}

/** How a standby reaches its primary. */
export interface UpstreamConnection extends ServerConnection {
  slotName: string;
  applicationName: string;
}

/** The replication configuration of one instance. */
export interface ReplicationPlan {
  role: "primary" | "standby";
  /** Slot and application name of this instance (see replicationName). */
  name: string;
  /** This instance's pgpass file for the replication account. */
  passfile: string;
  upstream: UpstreamConnection | undefined;
  /** Settings, unquoted; rendered into REPLICATION_CONF. */
  settings: Record<string, string>;
}

/** Defaults a user may override through parameters (they then stay in holdfast.conf). */
function tunables(maxReplicas: number, synchronous: SynchronousSettings | undefined): Record<string, string> {
  // Room for every replica plus a base backup and a pg_rewind at once, doubled for reconnects.
  const senders = String(Math.max(10, 2 * maxReplicas + 2));
  return {
    max_wal_senders: senders,
    max_replication_slots: senders,
    wal_keep_size: DEFAULT_WAL_KEEP_SIZE,
    // A standby whose upstream went away (a failover, a primary restarted in place) tries again after this, not
    // after PostgreSQL's 5 s: in synchronous mode commits on the new primary wait for it.
    wal_retrieve_retry_interval: "200ms",
    synchronous_commit: synchronous?.synchronous_commit ?? "on",
  };
}

/** The replication configuration for one instance as primary or as standby of `upstream`. */
export function planReplication(input: ReplicationPlanInput): ReplicationPlan {
  const name = replicationName(input.instanceName);
  const passfile = join(input.runDirectory, REPLICATION_PASSFILE);
  const upstream = input.upstream === undefined ? undefined : { ...input.upstream, user: REPLICATION_ACCOUNT.name, passfile, slotName: name, applicationName: name, ...(input.sslRootCert === undefined ? {} : { sslrootcert: input.sslRootCert }) };
  const userSet = input.parameters ?? {};
  const defaults = Object.entries(tunables(input.maxReplicas ?? DEFAULT_MAX_REPLICAS, input.synchronous)).filter(([key]) => userSet[key] === undefined);
  const settings: Record<string, string> = {
    // `logical` includes everything `replica` needs; anything less cannot feed a standby.
    wal_level: userSet["wal_level"] === "logical" ? "logical" : "replica",
    hot_standby: "on",
    // pg_rewind needs hint-bit changes in WAL (data checksums give the same; this covers clusters without).
    wal_log_hints: "on",
    ...Object.fromEntries(defaults),
    synchronous_standby_names: input.synchronous?.synchronous_standby_names ?? "",
    recovery_target_timeline: "latest",
    primary_conninfo: upstream === undefined ? "" : connectionConninfo(upstream, { application_name: upstream.applicationName }),
    primary_slot_name: upstream?.slotName ?? "",
  };
  return { role: upstream === undefined ? "primary" : "standby", name, passfile, upstream, settings };
}

/**
 * The content of REPLICATION_CONF for `plan`; last, the include of a standby's values raised to its primary's
 * (HOT_STANDBY_CONF, written before a standby's start, absent on a primary), which must win over the settings above.
 */
export function renderReplicationConf(plan: ReplicationPlan): string {
  const lines = Object.entries(plan.settings).map(([key, value]) => `${key} = ${quote(value)}`);
  const raised = `include_if_exists = ${quote(HOT_STANDBY_CONF)}`;
  return [`# Managed by Holdfast: replication settings of a ${plan.role}; rewritten when roles change.`, ...lines, raised, ""].join("\n");
}

/**
 * `postgresql.conf` including holdfast.conf and then REPLICATION_CONF, so replication settings win;
 * unchanged when both lines are there in that order.
 */
export function withReplicationInclude(postgresqlConf: string): string {
  const base = withInclude(postgresqlConf);
  const lines = base.split("\n");
  const holdfast = lines.findIndex((line) => line.trim() === INCLUDE_LINE);
  const replication = lines.findIndex((line) => line.trim() === REPLICATION_INCLUDE_LINE);
  if (replication > holdfast) return base;
  const kept = lines.filter((line) => line.trim() !== REPLICATION_INCLUDE_LINE).join("\n");
  const separator = kept.endsWith("\n") ? "" : "\n";
  return `${kept}${separator}${REPLICATION_INCLUDE_LINE}\n`;
}
