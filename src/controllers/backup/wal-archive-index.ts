/**
 * What a continuous Backup's archive holds, as the backup controller keeps track of it: read from the repository
 * (each file's sealed time and sizes; only new files are read on each pass), pruned of files no kept full backup
 * needs, and summed up for the Backup's status. The node agents put the files there (src/agent/wal-archiver.ts).
 */
import { archivedLogFileInfo, deleteArchivedLogFile, listArchivedLogFiles, type LogArchive } from "../../dataprotection/index.ts";
import type { ContinuousArchiving } from "../../engines/index.ts";

/** What the archive holds, by file name: when the server last wrote it, and its sizes. */
export type ArchiveIndex = Map<string, { writtenAt: number; bytes: number; storedBytes: number }>;

/**
 * A file last written before a full backup started holds nothing that backup needs (its checkpoint, and so the
 * start of its WAL, comes later). Files written more than this margin before the oldest kept full backup started
 * are pruned; the margin only absorbs file-time granularity and clock steps.
 */
export const PRUNE_MARGIN_MS = 10_000;

/** Bring the index up to date with the repository: read the files added since, forget those gone. */
export async function refreshIndex(archive: LogArchive, index: ArchiveIndex): Promise<void> {
  const names = new Set(await listArchivedLogFiles(archive));
  for (const name of index.keys()) if (!names.has(name)) index.delete(name);
  for (const name of names) {
    if (index.has(name)) continue;
    const info = await archivedLogFileInfo(archive, name);
    index.set(name, { writtenAt: info.writtenAt.getTime(), bytes: info.bytes, storedBytes: info.storedBytes });
  }
}

/** Files older than `oldestBaseStart` (less the margin) no kept full backup needs: delete them; returns how many. */
export async function prune(archive: LogArchive, continuous: ContinuousArchiving, index: ArchiveIndex, oldestBaseStart: number | undefined): Promise<number> {
  if (oldestBaseStart === undefined) return 0;
  const cutoff = oldestBaseStart - PRUNE_MARGIN_MS;
  const stale = [...index.entries()].filter(([name, file]) => file.writtenAt < cutoff && !continuous.keepAlways(name)).map(([name]) => name);
  for (const name of stale) {
    await deleteArchivedLogFile(archive, name);
    index.delete(name);
  }
  return stale.length;
}

/** What the Backup's status says of the archive: the last time a file was written, and sizes. */
export function indexSummary(index: ArchiveIndex): { end: string | undefined; files: number; bytes: number; storedBytes: number } {
  let end = -Infinity;
  let bytes = 0;
  let storedBytes = 0;
  for (const file of index.values()) {
    end = Math.max(end, file.writtenAt);
    bytes += file.bytes;
    storedBytes += file.storedBytes;
  }
  return { end: Number.isFinite(end) ? new Date(end).toISOString() : undefined, files: index.size, bytes, storedBytes };
}
