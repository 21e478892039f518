/**
 * One pass of the WAL archiver over one continuous Backup: turn handing over on in every instance of the component,
 * move finished files from the instances' spools into the repository (encrypted; the spool copy goes only once the
 * repository copy is committed), and prune archived files no kept full backup needs.
 */
import { createReadStream } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Instance } from "../../api/index.ts";
import { archiveLogFile, archivedLogFileInfo, deleteArchivedLogFile, listArchivedLogFiles, type LogArchive } from "../../dataprotection/index.ts";
import type { ContinuousArchiving, InstanceLayout } from "../../engines/index.ts";
import type { InstanceUsers } from "../../runtime/index.ts";

/** What the archive holds, by file name: when the server last wrote it, and its sizes. */
export type ArchiveIndex = Map<string, { writtenAt: number; bytes: number; storedBytes: number }>;

/** At most this many files are moved per pass, so status and other Backups are not held up. */
export const FILES_PER_PASS = 32;
/**
 * A file last written before a full backup started holds nothing that backup needs (its checkpoint, and so the
 * start of its WAL, comes later). Files written more than this margin before the oldest kept full backup started
 * are pruned; the margin only absorbs file-time granularity and clock steps.
 */
export const PRUNE_MARGIN_MS = 10_000;

/** Everything a pass works on. */
export interface PassContext {
  archive: LogArchive;
  continuous: ContinuousArchiving;
  /** The component's instances and where their files are. */
  instances: readonly { instance: Instance; layout: InstanceLayout }[];
  /** Spool directories belong to each instance's own OS user. */
  users: InstanceUsers;
}

/** The archive's index, read from the repository (each file's sealed time); done once per control-plane start. */
export async function loadIndex(archive: LogArchive): Promise<ArchiveIndex> {
  const index: ArchiveIndex = new Map();
  for (const name of await listArchivedLogFiles(archive)) {
    const info = await archivedLogFileInfo(archive, name);
    index.set(name, { writtenAt: info.writtenAt.getTime(), bytes: info.bytes, storedBytes: info.storedBytes });
  }
  return index;
}

/** Make every instance hand its finished files to its spool (a new instance, too, from its first pass on). */
export async function enableHandOver(context: Pick<PassContext, "continuous" | "instances" | "users">): Promise<void> {
  for (const { instance, layout } of context.instances) {
    const flag = context.continuous.flagFile(layout);
    // An instance whose directories the instance controller has not made yet gets its flag on a later pass.
    if ((await exists(flag)) || !(await exists(layout.rootDirectory))) continue;
    const host = await context.users.hostOf(instance);
    await host.mkdir(context.continuous.spoolDirectory(layout));
    await host.writeFile(flag, "Holdfast archives the files handed over here while this file exists\n", 0o644);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Stop every instance handing files over, and drop what its spool holds. */
export async function disableHandOver(continuous: ContinuousArchiving, layouts: readonly InstanceLayout[]): Promise<void> {
  for (const layout of layouts) {
    await unlink(continuous.flagFile(layout)).catch(() => undefined);
    for (const name of await spooled(continuous, layout)) await unlink(join(continuous.spoolDirectory(layout), name)).catch(() => undefined);
  }
}

async function spooled(continuous: ContinuousArchiving, layout: InstanceLayout): Promise<string[]> {
  const names = await readdir(continuous.spoolDirectory(layout)).catch(() => []);
  return names.filter((name) => continuous.isLogFile(name)).sort((a, b) => continuous.compare(a, b));
}

/** Move up to FILES_PER_PASS spooled files into the repository; returns how many were moved (or found already there). */
export async function drainSpools(context: PassContext, index: ArchiveIndex): Promise<number> {
  let moved = 0;
  for (const { instance, layout } of context.instances) {
    for (const name of await spooled(context.continuous, layout)) {
      if (moved >= FILES_PER_PASS) return moved;
      const path = join(context.continuous.spoolDirectory(layout), name);
      if (!index.has(name)) {
        const writtenAt = (await stat(path)).mtime;
        const summary = await archiveLogFile(context.archive, name, createReadStream(path), { writtenAt, instance: instance.metadata.name });
        index.set(name, { writtenAt: writtenAt.getTime(), bytes: summary?.plaintextBytes ?? 0, storedBytes: summary?.storedBytes ?? 0 });
      }
      await unlink(path);
      moved++;
    }
  }
  return moved;
}

/** Files older than `oldestBaseStart` (less the margin) no kept full backup needs: delete them; returns how many. */
export async function prune(context: Pick<PassContext, "archive" | "continuous">, index: ArchiveIndex, oldestBaseStart: number | undefined): Promise<number> {
  if (oldestBaseStart === undefined) return 0;
  const cutoff = oldestBaseStart - PRUNE_MARGIN_MS;
  const stale = [...index.entries()].filter(([name, file]) => file.writtenAt < cutoff && !context.continuous.keepAlways(name)).map(([name]) => name);
  for (const name of stale) {
    await deleteArchivedLogFile(context.archive, name);
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
