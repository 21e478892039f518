/**
 * Restore of a `pg-basebackup` backup: its `base.tar` unpacked into the new data directory (parallel writes, batched
 * fsyncs, names checked; tar-unpack.ts) in the restore's own process when the source has one, the directory pointed
 * at the new instance, recovered once in single-user mode to set the new cluster's passwords, and only then marked
 * initialised.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { INITIALIZED_MARKER, markerContent, markerPath } from "../marker.ts";
import { unpackTar, type FileOwner } from "../tar-unpack.ts";
import type { BackupSource, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { BASE_TAR } from "./base-tar.ts";
import { configurePostgresql } from "./initialize.ts";
import { STANDBY_SIGNAL } from "./replication-setup.ts";
import { SYNCHRONOUS_CONF } from "./synchronous-config.ts";
import { resetPasswordsInput, SINGLE_USER_TIMEOUT_MS, singleUserCommand, singleUserFailure } from "./single-user.ts";

/**
 * Files of the source that must not land in a new instance: Holdfast's own marker (written last, after the restore
 * is whole), a stale pid file, the signals that would start it as a standby or in recovery, and the source's
 * synchronous quorum (its replicas' names: commits would wait for them).
 */
export const EXCLUDED_FROM_RESTORE: ReadonlySet<string> = new Set([INITIALIZED_MARKER, "postmaster.pid", "postmaster.opts", "standby.signal", "recovery.signal", SYNCHRONOUS_CONF]);

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

/** See BackupMethodDefinition.restore. */
export async function restoreBaseBackup(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await unpackBaseBackup(context, source, host);
  await configurePostgresql(context, host);
  await recoverWithPasswords(context, accounts, host);
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

/** Replay the backup's WAL to consistency in single-user mode and set the system accounts' passwords (as SCRAM verifiers). */
async function recoverWithPasswords(context: InstanceContext, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  let output: { stdout: string; stderr: string };
  try {
    output = await host.run(singleUserCommand(context), { stdin: resetPasswordsInput(accounts), cwd: context.runDirectory, timeoutMs: SINGLE_USER_TIMEOUT_MS });
  } catch (error) {
    throw new UnavailableError(`recovering the restored data of ${context.instanceName} failed: ${errorMessage(error)}`, { cause: error });
  }
  const problem = singleUserFailure(output);
  if (problem !== undefined) throw new UnavailableError(`setting the passwords of the restored ${context.instanceName} failed: ${problem}`);
}
