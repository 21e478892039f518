/**
 * A Completed backup opened for a restore: its streams counted and cancellable (restore-meter.ts), and its tar streams
 * unpacked in a process of their own (src/restore-process, ADR 0050), which gets this backup's chunk keys and the
 * repository's address over its IPC channel and reports its bytes, its peak memory and its failure back here.
 */
import type { Backup } from "../api/index.ts";
import type { BackupSource } from "../engines/index.ts";
import { unpackInProcess } from "../restore-process/index.ts";
import type { Logger } from "../util/index.ts";
import { openCompletedBackupAt, type BackupAccess } from "./open-completed.ts";
import type { RestoreMeter } from "./restore-meter.ts";

const MIB = 1024 * 1024;

/** How a restore reaches backups, and where its processes keep their module compile cache (absent: none). */
export interface RestoreAccess extends BackupAccess {
  /** A directory of the node agent's own (0700): the restore processes' compiled modules, kept across restores (child.ts). */
  compileCache?: string | undefined;
}

/** `backup` as a restore reads it; `logger` gets one line per restore process with what it wrote and its peak memory. */
export async function openRestoreSource(access: RestoreAccess, backup: Backup, meter: RestoreMeter, logger?: Logger): Promise<BackupSource> {
  const { reader, address } = await openCompletedBackupAt(access, backup);
  const tracked = meter.track(reader);
  const id = `${backup.metadata.namespace ?? "default"}/${backup.metadata.name}`;
  return {
    openStream: (name) => tracked.openStream(name),
    async unpackTar(name, directory, target) {
      const job = { repository: address, grant: reader.grant(), stream: name, directory, owner: target.owner, excluded: [...target.excluded], compileCache: access.compileCache };
      const started = performance.now();
      const result = await unpackInProcess(job, meter.processWatch());
      meter.notePeak(result.peakBytes);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      logger?.info(`restore of backup ${id} into ${directory}: ${result.files} files, ${(result.bytes / MIB).toFixed(0)} MiB unpacked and synced in ${seconds} s by its own process, peak memory ${(result.peakBytes / MIB).toFixed(0)} MiB`);
    },
  };
}
