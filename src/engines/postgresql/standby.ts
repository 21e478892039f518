/** Creating a standby: a base backup of the running primary through the standby's own slot. */
import { randomUUID } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, InvalidError, UnavailableError, errorMessage } from "../../errors/index.ts";
import type { PeerServer } from "../address.ts";
import { markerContent, markerPath } from "../marker.ts";
import type { CommandSpec, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { configurePostgresql } from "./initialize.ts";
import type { ReplicationPlan, UpstreamConnection } from "./replication-config.ts";
import { configureReplication, writeReplicationPassfile } from "./replication-setup.ts";
import { ensureReplicationSlot } from "./replication-slots.ts";
import { reloadPostgresql } from "./server-control.ts";
import { withSession } from "./session.ts";

/** The credentials replication work needs: the superuser (slots, checkpoints) and the replication account (streaming). */
export interface ReplicationAccounts {
  admin: Credentials;
  replication: Credentials;
}

const BASEBACKUP_TIMEOUT_MS = 30 * 60_000;

/** The upstream as a session target: its address, with TLS checked against the CA when the plan has one. */
export function upstreamServer(upstream: UpstreamConnection): PeerServer {
  return { host: upstream.host, port: upstream.port, caFile: upstream.sslrootcert };
}

/** libpq's environment for verify-full TLS against `sslrootcert` (no secret in it), for tools given host and port as flags. */
export function libpqTlsEnvironment(sslrootcert: string | undefined): Record<string, string> {
  return sslrootcert === undefined ? {} : { PGSSLMODE: "verify-full", PGSSLROOTCERT: sslrootcert };
}

/** The upstream of a standby plan, or an error naming what is wrong. */
export function upstreamOf(plan: ReplicationPlan, instanceName: string): UpstreamConnection {
  if (plan.upstream === undefined) {
    throw new InvalidError(`${instanceName} is planned as a primary: plan it as a standby of the primary to create it from one`);
  }
  return plan.upstream;
}

/**
 * `pg_basebackup` of `upstream` into `target`: fast checkpoint, WAL streamed alongside through the slot.
 * No -R: it would write the password it used into postgresql.auto.conf. The password comes from the passfile.
 */
export function basebackupCommand(context: InstanceContext, upstream: UpstreamConnection, target: string): CommandSpec {
  return {
    command: join(context.version.binDir, "pg_basebackup"),
    args: [
      "-h", upstream.host, "-p", String(upstream.port), "-U", upstream.user, "--no-password",
      "-D", target, "--checkpoint=fast", "--wal-method=stream", `--slot=${upstream.slotName}`,
    ],
    env: { PGPASSFILE: upstream.passfile, PGAPPNAME: `${upstream.applicationName}_clone`, ...libpqTlsEnvironment(upstream.sslrootcert) },
  };
}

/**
 * Replace the data directory of `context` with a copy of the primary `plan.upstream` names, configured as
 * its standby (holdfast.conf with this instance's port, replication settings, standby.signal) and marked
 * initialised. The copy lands in a sibling directory first, so a failed clone never looks initialised.
 * Start the instance afterwards with the engine's start command.
 */
export async function cloneStandby(context: InstanceContext, plan: ReplicationPlan, accounts: ReplicationAccounts, host: HostAccess): Promise<void> {
  const upstream = upstreamOf(plan, context.instanceName);
  await ensureReplicationSlot(upstreamServer(upstream), accounts.admin, upstream.slotName);
  await host.mkdir(context.runDirectory);
  await writeReplicationPassfile(plan, accounts.replication, host);
  const staging = `${context.dataDirectory}.clone-${randomUUID()}`;
  try {
    await host.run(basebackupCommand(context, upstream, staging), { cwd: context.runDirectory, timeoutMs: BASEBACKUP_TIMEOUT_MS });
    await rm(context.dataDirectory, { recursive: true, force: true });
    await rename(staging, context.dataDirectory);
  } catch (error) {
    throw new UnavailableError(`cloning ${context.instanceName} from ${upstream.host}:${upstream.port} failed: ${errorMessage(error)}; the clone starts again from scratch`, { cause: error });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  await finishStandby(context, plan, accounts.replication, host);
}

/** Configure a copied or rewound data directory as this instance's standby and mark it initialised. */
export async function finishStandby(context: InstanceContext, plan: ReplicationPlan, replication: Credentials, host: HostAccess): Promise<void> {
  await configurePostgresql(context, host);
  await configureReplication(context, plan, replication, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/**
 * Apply a changed plan to the running instance on `context` and reload: a standby follows a new
 * primary (primary_conninfo and primary_slot_name are reloadable since PostgreSQL 13), a primary takes
 * new synchronous settings. A running primary is never handed a standby plan: fence it and rejoin it.
 */
export async function applyReplicationPlan(context: InstanceContext, plan: ReplicationPlan, accounts: ReplicationAccounts, host: HostAccess): Promise<void> {
  const inRecovery = await withSession(context.port, accounts.admin, async (client) => (await client.query<{ r: boolean }>("SELECT pg_catalog.pg_is_in_recovery() AS r")).rows[0]?.r);
  if (plan.role === "standby" && inRecovery === false) {
    throw new ConflictError(`${context.instanceName} runs as a primary: fence it and rejoin it as a standby instead of repointing it`);
  }
  if (plan.upstream !== undefined) await ensureReplicationSlot(upstreamServer(plan.upstream), accounts.admin, plan.upstream.slotName);
  await configureReplication(context, plan, accounts.replication, host);
  await reloadPostgresql(context.port, accounts.admin);
}
