/** Restore of a new instance's data directory from the Backup its spec names, checked as it is read. */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { BackupIntegrityError } from "../backup/index.ts";
import { parseRestoreTime, type Backup, type Instance } from "../api/index.ts";
import { InvalidError, errorMessage } from "../errors/index.ts";
import type { BackupMethodDefinition, Credentials, Engine, EngineVersion, HostAccess, InstanceContext } from "../engines/index.ts";
import type { Logger } from "../util/index.ts";
import { keepRestoreProcessReady } from "../restore-process/index.ts";
import { getBackup } from "./open-completed.ts";
import { RestoreMeter, type RestoreProgressReport } from "./restore-meter.ts";
import { openRestoreSource, type RestoreAccess } from "./restore-source.ts";
import { restoreToTime } from "./restore-to-time.ts";

/** One restore: the instance, its engine and context, the accounts it gets. */
export interface RestoreRequest {
  instance: Instance;
  engine: Engine;
  context: InstanceContext;
  accounts: readonly Credentials[];
  host: HostAccess;
  /**
   * Restore a replica being rebuilt (ADR 0045): the data as the backup has it, set up to start as a replica that
   * catches up from its primary, with the method's `restoreReplica`; a point in time cannot be asked for.
   */
  asReplica?: boolean;
  /** Cancels the restore: the stream being read is destroyed, the command it feeds killed, the directory emptied. */
  signal?: AbortSignal;
  /** Called after each chunk read. */
  onProgress?: (progress: RestoreProgressReport) => void;
}

/** Fills an empty data directory from a backup instead of initialising it. */
export interface DataRestorer {
  restore(request: RestoreRequest): Promise<void>;
  /** A restore is coming: start what it will run in now, while the control plane prepares it (optional). */
  prepare?(): void;
}

/** Why `backup` cannot be restored into an instance of `engine` at `version`, or undefined when it can (pure). */
export function restoreIncompatibility(backup: Backup, engine: Engine, version: EngineVersion): string | undefined {
  const source = backup.status?.source;
  if (source === undefined) return "it does not record which engine it was taken from";
  if (source.engine !== engine.name) return `it is a ${source.engine} backup and cannot be restored into ${engine.name}`;
  // Data files are only readable by the same major version (PostgreSQL), and an RDB only by the same or a newer one.
  const sourceMajor = source.version.split(".")[0];
  if (sourceMajor !== version.version.split(".")[0]) {
    return `it was taken from ${engine.name} ${source.version} and cannot be restored into ${version.version}; use serviceVersion ${sourceMajor ?? source.version}`;
  }
  if (!engine.backupMethods.some((method) => method.name === backup.spec.backupMethod)) return `${engine.name} has no backup method ${backup.spec.backupMethod}`;
  return undefined;
}

/**
 * A restorer reading backups through `access`; tar streams are unpacked in a process of their own per restore,
 * whose peak memory `logger` records.
 */
export function createDataRestorer(access: RestoreAccess, logger?: Logger): DataRestorer {
  return {
    prepare() {
      if (access.compileCache !== undefined) keepRestoreProcessReady(access.compileCache);
    },
    async restore(request) {
      const source = request.instance.spec.restore;
      if (source === undefined) throw new InvalidError(`instance ${request.instance.metadata.name} names no backup to restore`);
      const id = `${source.backupNamespace}/${source.backupName}`;
      const backup = await getBackup(access.store, source.backupNamespace, source.backupName);
      const problem = restoreIncompatibility(backup, request.engine, request.context.version);
      if (problem !== undefined) throw new InvalidError(`backup ${id} cannot be restored here: ${problem}`);
      const method = request.engine.backupMethods.find((candidate) => candidate.name === backup.spec.backupMethod);
      if (method === undefined) throw new InvalidError(`backup ${id}: ${request.engine.name} has no backup method ${backup.spec.backupMethod}`);
      const meter = new RestoreMeter({ signal: request.signal, onProgress: request.onProgress });
      try {
        await restoreWith({ ...access, logger }, { ...request, meter }, backup, method);
        request.signal?.throwIfAborted();
      } catch (error) {
        await emptyDirectory(request.context.dataDirectory);
        if (request.signal?.aborted === true) throw new RestoreCancelledError(`the restore from backup ${id} was cancelled; its partial data was removed`, { cause: error });
        throw describeFailure(error, id, source.backupName, source.backupNamespace);
      }
    },
  };
}

/** Fill the directory from `backup` with `method`: to a point in time, as a replica, or as the backup has it. */
async function restoreWith(access: RestoreAccess & { logger: Logger | undefined }, request: RestoreRequest & { meter: RestoreMeter }, backup: Backup, method: BackupMethodDefinition): Promise<void> {
  const restoreTime = request.instance.spec.restore?.restoreTime;
  if (request.asReplica === true) {
    if (method.restoreReplica === undefined || restoreTime !== undefined) throw new InvalidError(`a replica cannot be rebuilt from a ${method.name} backup${restoreTime === undefined ? "" : " to a point in time"}; rebuild it from its primary instead`);
    await method.restoreReplica(request.context, await openRestoreSource(access, backup, request.meter, access.logger), request.host);
    return;
  }
  if (restoreTime !== undefined) return restoreToTime(access, { ...request, logger: access.logger }, backup, parseRestoreTime(restoreTime));
  await method.restore(request.context, await openRestoreSource(access, backup, request.meter, access.logger), request.accounts, request.host);
}

/** The restore was cancelled (the instance is being deleted). */
export class RestoreCancelledError extends Error {}

/** The backup's data is changed, missing or out of place: retrying reads the same bad bytes, so callers should not. */
export class BackupDamagedError extends InvalidError {}

function describeFailure(error: unknown, id: string, name: string, namespace: string): Error {
  if (error instanceof BackupIntegrityError) {
    return new BackupDamagedError(`backup ${id} is damaged, so the instance is not started on it: ${error.message}; check it with holdfast backup verify ${name} -n ${namespace}`, { cause: error });
  }
  return new InvalidError(`restoring from backup ${id} failed: ${errorMessage(error)}`, { cause: error });
}

/** Remove what a failed restore left, keeping the (service user's) directory itself. */
async function emptyDirectory(directory: string): Promise<void> {
  const entries = await readdir(directory).catch(() => []);
  await Promise.all(entries.map((entry) => rm(join(directory, entry), { recursive: true, force: true })));
}
