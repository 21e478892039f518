/**
 * The `pg-basebackup` backup method: a full physical backup as one tar (`base.tar`), with the WAL needed to make it
 * consistent inside. On a primary the node agent reads the data directory itself (datadir-backup.ts: several reads
 * in flight, and an incremental that takes unchanged blocks from its parent by page LSN); elsewhere (a standby, a
 * non-superuser account, tablespaces) pg_basebackup writes the same tar to stdout (`-X fetch`: `-X stream` cannot).
 * Its restore (and a replica's rebuild from it) is in restore-base.ts.
 */
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";
import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { BackupContext, BackupMethodDefinition, BackupSink, CommandSpec, HostAccess, InstanceContext } from "../types.ts";
import { BASE_TAR } from "./base-tar.ts";
import { loopbackPassfile } from "./conninfo.ts";
import { backupDataDirectory } from "./datadir-backup.ts";
import { restoreBaseBackup, restoreReplicaFromBase } from "./restore-base.ts";
import { withSession } from "./session.ts";

export { BASE_TAR } from "./base-tar.ts";

/** `pg_basebackup` of the instance on `port` to stdout as one tar; the password comes from `passfile`. */
export function basebackupToStdout(context: InstanceContext, user: string, passfile: string): CommandSpec {
  return {
    command: join(context.version.binDir, "pg_basebackup"),
    args: ["-h", "127.0.0.1", "-p", String(context.port), "-U", user, "--no-password", "-D", "-", "--format=tar", "--wal-method=fetch", "--checkpoint=fast"],
    env: { PGPASSFILE: passfile, PGAPPNAME: HOLDFAST_SESSIONS.toolApplicationName("backup") },
  };
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

/** The pg-basebackup method, taken from a standby when there is one, else from the primary (KubeBlocks' template). */
export const PG_BASEBACKUP: BackupMethodDefinition = {
  name: "pg-basebackup",
  description: "full physical backup of the data directory (fast checkpoint, WAL included), as pg_basebackup writes it",
  targetRole: "secondary",
  fallbackRole: "primary",
  backup,
  estimateSize,
  restore: restoreBaseBackup,
  restoreReplica: restoreReplicaFromBase,
};
