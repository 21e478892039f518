/**
 * The spools of the instances on this node (the node agent's side of continuous archiving): turn handing over on and
 * off (the engine's flag file), and move finished log files from a spool into the archive (encrypted; the spool copy
 * goes only once the repository copy is committed).
 */
import { createReadStream } from "node:fs";
import { readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { archiveLogFile, type LogArchive } from "../dataprotection/index.ts";
import type { ContinuousArchiving, HostAccess, InstanceLayout } from "../engines/index.ts";

/** At most this many files are moved per pass, so status and other work are not held up. */
export const FILES_PER_PASS = 32;

/** One instance's spool: where its files are, and (for the flag) its OS user. */
export interface Spool {
  instance: string;
  layout: InstanceLayout;
  host: HostAccess;
}

/** Make the instance hand its finished files to its spool. */
export async function enableHandOver(continuous: ContinuousArchiving, spool: Spool): Promise<void> {
  const flag = continuous.flagFile(spool.layout);
  // An instance whose directories the agent has not made yet gets its flag on a later pass.
  if ((await exists(flag)) || !(await exists(spool.layout.rootDirectory))) return;
  await spool.host.mkdir(continuous.spoolDirectory(spool.layout));
  await spool.host.writeFile(flag, "Holdfast archives the files handed over here while this file exists\n", 0o644);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Stop the instance handing files over, and drop what its spool holds. */
export async function disableHandOver(continuous: ContinuousArchiving, layout: InstanceLayout): Promise<void> {
  await unlink(continuous.flagFile(layout)).catch(() => undefined);
  for (const name of await spooled(continuous, layout)) await unlink(join(continuous.spoolDirectory(layout), name)).catch(() => undefined);
}

async function spooled(continuous: ContinuousArchiving, layout: InstanceLayout): Promise<string[]> {
  const names = await readdir(continuous.spoolDirectory(layout)).catch(() => []);
  return names.filter((name) => continuous.isLogFile(name)).sort((a, b) => continuous.compare(a, b));
}

/** Move up to `budget` spooled files into the archive; returns how many were moved (or found already there). */
export async function drainSpool(archive: LogArchive, continuous: ContinuousArchiving, spool: Spool, budget: number): Promise<number> {
  let moved = 0;
  for (const name of await spooled(continuous, spool.layout)) {
    if (moved >= budget) break;
    const path = join(continuous.spoolDirectory(spool.layout), name);
    const writtenAt = (await stat(path)).mtime;
    // Undefined when a complete copy is there already (the agent stopped between storing it and unlinking it).
    await archiveLogFile(archive, name, createReadStream(path), { writtenAt, instance: spool.instance });
    await unlink(path);
    moved++;
  }
  return moved;
}
