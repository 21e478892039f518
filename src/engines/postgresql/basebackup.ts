/**
 * The `pg-basebackup` backup method: a full physical backup as one tar (`base.tar`), with the WAL needed to make it
 * consistent inside. On a primary the node agent reads the data directory itself (datadir-backup.ts: several reads
 * in flight, and an incremental that takes unchanged blocks from its parent by page LSN); elsewhere (a standby, a
 * non-superuser account, tablespaces) pg_basebackup writes the same tar to stdout (`-X fetch`: `-X stream` cannot).
 * Restore unpacks it as the service user, points it at the new instance, recovers it once in single-user mode
 * to set the new cluster's passwords, and only then marks the directory initialised.
 */
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { INITIALIZED_MARKER, markerContent, markerPath } from "../marker.ts";
import type { BackupContext, BackupMethodDefinition, BackupSink, BackupSource, CommandSpec, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { loopbackPassfile } from "./conninfo.ts";
import { backupDataDirectory } from "./datadir-backup.ts";
import { configurePostgresql } from "./initialize.ts";
import { STANDBY_SIGNAL } from "./replication-setup.ts";
import { SYNCHRONOUS_CONF } from "./synchronous-config.ts";
import { withSession } from "./session.ts";
import { resetPasswordsInput, SINGLE_USER_TIMEOUT_MS, singleUserCommand, singleUserFailure } from "./single-user.ts";

/** The stream a pg-basebackup backup consists of. */
export const BASE_TAR = "base.tar";

// Files of the source that must not land in a new instance: Holdfast's own marker (written last, after the
// restore is whole), a stale pid file, the signals that would start it as a standby or in recovery, and the
// source's synchronous quorum (its replicas' names: commits would wait for them).
const EXCLUDED = [INITIALIZED_MARKER, "postmaster.pid", "postmaster.opts", "standby.signal", "recovery.signal", SYNCHRONOUS_CONF];

/** `pg_basebackup` of the instance on `port` to stdout as one tar; the password comes from `passfile`. */
export function basebackupToStdout(context: InstanceContext, user: string, passfile: string): CommandSpec {
  return {
    command: join(context.version.binDir, "pg_basebackup"),
    args: ["-h", "127.0.0.1", "-p", String(context.port), "-U", user, "--no-password", "-D", "-", "--format=tar", "--wal-method=fetch", "--checkpoint=fast"],
    env: { PGPASSFILE: passfile, PGAPPNAME: HOLDFAST_SESSIONS.toolApplicationName("backup") },
  };
}

/** `tar` unpacking a base backup from stdin into `directory`, without the excluded files. */
export function unpackCommand(directory: string): CommandSpec {
  return { command: "tar", args: ["--extract", "--file=-", `--directory=${directory}`, "--no-same-owner", ...EXCLUDED.map((name) => `--exclude=${name}`)] };
}

async function backup(context: BackupContext, sink: BackupSink, host: HostAccess): Promise<void> {
  if (await backupDataDirectory(context, sink, BASE_TAR)) return;
  const { instance, account } = context;
  const passfile = join(context.scratchDirectory, `backup-${randomUUID()}.pgpass`);
  try {
    await host.writeFile(passfile, loopbackPassfile(account), 0o600);
    const command = basebackupToStdout(instance, account.username, passfile);
    await host.runStreamingOut(command, async (stdout) => {
      await sink.writeStream(BASE_TAR, stdout);
    }, { cwd: instance.runDirectory, signal: context.signal });
  } finally {
    await rm(passfile, { force: true });
  }
}

/** The databases' size on disk: what the tar mostly holds (it adds the shared catalogs, WAL and configuration). */
async function estimateSize(context: BackupContext): Promise<number | undefined> {
  return withSession(context.instance.port, context.account, async (client) => {
    const result = await client.query<{ bytes: string | null }>("select sum(pg_catalog.pg_database_size(oid))::text as bytes from pg_catalog.pg_database");
    const bytes = Number(result.rows[0]?.bytes ?? Number.NaN);
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  });
}

async function unpack(context: InstanceContext, source: BackupSource, host: HostAccess): Promise<void> {
  await host.mkdir(context.runDirectory);
  await host.mkdir(context.dataDirectory);
  await host.runStreamingIn(unpackCommand(context.dataDirectory), source.openStream(BASE_TAR), { cwd: context.runDirectory });
  await configurePostgresql(context, host);
}

async function restore(context: InstanceContext, source: BackupSource, accounts: readonly Credentials[], host: HostAccess): Promise<void> {
  await unpack(context, source, host);
  await recoverWithPasswords(context, accounts, host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/**
 * A replica rebuilt from the backup: no recovery here (it would end on its own history, which the primary's WAL
 * cannot follow). With its backup_label and standby.signal it starts as a standby, replays the WAL the backup holds and
 * streams the rest from its primary, which must still have the WAL written since the backup began (wal_keep_size, or
 * the replica's slot).
 */
async function restoreReplica(context: InstanceContext, source: BackupSource, host: HostAccess): Promise<void> {
  await unpack(context, source, host);
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

/** The pg-basebackup method, taken from a standby when there is one, else from the primary (KubeBlocks' template). */
export const PG_BASEBACKUP: BackupMethodDefinition = {
  name: "pg-basebackup",
  description: "full physical backup of the data directory (fast checkpoint, WAL included), as pg_basebackup writes it",
  targetRole: "secondary",
  fallbackRole: "primary",
  backup,
  estimateSize,
  restore,
  restoreReplica,
};
