/**
 * Restore of a `pg-basebackup` backup: its `base.tar` unpacked into the new data directory (parallel writes, batched
 * fsyncs, names checked; tar-unpack.ts) in the restore's own process when the source has one, the directory pointed
 * at the new instance with its passwords marked pending, and only then marked initialised. The server's first normal
 * start recovers it, admitting no TCP client until the node agent has set the new cluster's passwords over its
 * private socket (restored-passwords.ts, ADR 0050): one start, no `postgres --single`.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { INITIALIZED_MARKER, markerContent, markerPath } from "../marker.ts";
import { unpackTar, type FileOwner } from "../tar-unpack.ts";
import type { BackupSource, HostAccess, InstanceContext } from "../types.ts";
import { BASE_TAR } from "./base-tar.ts";
import { configurePostgresql } from "./initialize.ts";
import { STANDBY_SIGNAL } from "./replication-setup.ts";
import { markPasswordsPending, PASSWORDS_PENDING } from "./restored-passwords.ts";
import { SYNCHRONOUS_CONF } from "./synchronous-config.ts";

/**
 * Files of the source that must not land in a new instance: Holdfast's own marker (written last, after the restore
 * is whole) and pending passwords (the restore's own), a stale pid file, the signals that would start it as a standby or in recovery, and the source's
 * synchronous quorum (its replicas' names: commits would wait for them).
 */
export const EXCLUDED_FROM_RESTORE: ReadonlySet<string> = new Set([INITIALIZED_MARKER, PASSWORDS_PENDING, "postmaster.pid", "postmaster.opts", "standby.signal", "recovery.signal", SYNCHRONOUS_CONF]);

/** The owner of the (empty) data directory, which the service user got from `host.mkdir`: what a root process gives files to. */
async function dataOwner(dataDirectory: string): Promise<FileOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { uid, gid } = await stat(dataDirectory);
  return { uid, gid };
}

/** Create the instance's directories and unpack the base backup's tar into its data directory; durable when it resolves. */
export async function unpackBaseBackup(context: InstanceContext, source: BackupSource, host: HostAccess): Promise<void> {
  await host.mkdir(context.runDirectory);
  await host.mkdir(context.dataDirectory);
  const target = { owner: await dataOwner(context.dataDirectory), excluded: EXCLUDED_FROM_RESTORE };
  if (source.unpackTar !== undefined) return source.unpackTar(BASE_TAR, context.dataDirectory, target);
  const input = source.openStream(BASE_TAR);
  try {
    await unpackTar(input, context.dataDirectory, target);
  } finally {
    input.destroy();
  }
}

/**
 * See BackupMethodDefinition.restore. The accounts are not used here: the node agent sets the passwords it holds
 * then at the first start (Engine.finishStart), the pending file written durably before the marker says so.
 */
export async function restoreBaseBackup(context: InstanceContext, source: BackupSource, _accounts: unknown, host: HostAccess): Promise<void> {
  await unpackBaseBackup(context, source, host);
  await markPasswordsPending(context, host);
  await configurePostgresql(context, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/**
 * A replica rebuilt from the backup (RebuildInstance, ADR 0045): no recovery here (it would end on its own history,
 * which the primary's WAL cannot follow). With its backup_label and standby.signal it starts as a standby, replays the
 * WAL the backup holds and streams the rest from its primary, which must still have the WAL written since the backup
 * began (wal_keep_size, or the replica's slot).
 */
export async function restoreReplicaFromBase(context: InstanceContext, source: BackupSource, host: HostAccess): Promise<void> {
  await unpackBaseBackup(context, source, host);
  await configurePostgresql(context, host);
  await host.writeFile(join(context.dataDirectory, STANDBY_SIGNAL), "", 0o600);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}
